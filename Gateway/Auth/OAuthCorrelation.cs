using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Auth;

/// <summary>
/// Binds an OAuth <c>state</c> to the browser that started the sign-in (CSRF): the state and the return URL travel in
/// a short-lived, data-protected, HttpOnly cookie scoped to <c>/auth</c>; the callback accepts only the state that
/// cookie holds, once. The key ring is shared through Redis, so any gateway instance can finish a sign-in.
/// </summary>
internal sealed class OAuthCorrelation(IDataProtectionProvider dataProtection, TimeProvider time, IOptions<GatewayOptions> gateway, IHostEnvironment environment)
{
    public const string CookieName = "grouppay.oauth";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly ITimeLimitedDataProtector _protector =
        dataProtection.CreateProtector("GroupPay.Gateway.OAuthCorrelation.v1").ToTimeLimitedDataProtector();

    /// <summary>Mints a state, sets the cookie, and returns the state for the authorize URL.</summary>
    public string Start(HttpContext context, string returnUrl)
    {
        var state = RandomNumberGenerator.GetHexString(32, lowercase: true);
        var payload = _protector.Protect(state + "\n" + returnUrl, time.GetUtcNow() + Lifetime);
        context.Response.Cookies.Append(CookieName, payload, CookieOptions(context, Lifetime));
        return state;
    }

    /// <summary>The return URL when <paramref name="state"/> is the one this browser was given (and not expired);
    /// null otherwise. The cookie is spent either way.</summary>
    public string? Complete(HttpContext context, string? state)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var payload) || string.IsNullOrEmpty(payload))
        {
            return null;
        }
        context.Response.Cookies.Delete(CookieName, CookieOptions(context, null));
        if (string.IsNullOrEmpty(state))
        {
            return null;
        }
        string plain;
        try
        {
            plain = _protector.Unprotect(payload, out _);
        }
        catch (CryptographicException)
        {
            return null; // forged, from another key ring, or expired
        }
        var separator = plain.IndexOf('\n', StringComparison.Ordinal);
        if (separator < 0)
        {
            return null;
        }
        var expected = Encoding.UTF8.GetBytes(plain[..separator]);
        var given = Encoding.UTF8.GetBytes(state);
        return CryptographicOperations.FixedTimeEquals(expected, given) ? plain[(separator + 1)..] : null;
    }

    private CookieOptions CookieOptions(HttpContext context, TimeSpan? maxAge) => new()
    {
        Path = "/auth",
        HttpOnly = true,
        // Lax: the cookie comes back on WeChat's top-level redirect to the callback.
        SameSite = SameSiteMode.Lax,
        // As the session cookie: Secure outside Development (Gateway:SecureCookies), whatever a proxy in front says.
        Secure = context.Request.IsHttps || gateway.Value.CookiesAreSecure(environment),
        IsEssential = true,
        MaxAge = maxAge,
    };
}
