using System.Security.Claims;
using System.Text.RegularExpressions;

namespace GroupPay.Gateway.Auth;

/// <summary>The signed-in user as the session cookie carries them: one claim, the openid.</summary>
internal static partial class SessionUser
{
    public const string OpenidClaim = "openid";

    public static ClaimsPrincipal Create(string openid, string authenticationType) =>
        new(new ClaimsIdentity([new Claim(OpenidClaim, openid)], authenticationType, OpenidClaim, null));

    /// <summary>The caller's openid, or null when anonymous.</summary>
    public static string? FindOpenid(this ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true ? user.FindFirstValue(OpenidClaim) : null;

    /// <summary>The caller's openid on an endpoint that requires a session.</summary>
    public static string GetOpenid(this ClaimsPrincipal user) =>
        user.FindOpenid() ?? throw new InvalidOperationException("The endpoint requires a signed-in user.");

    /// <summary>WeChat openids: 1..128 of [0-9A-Za-z_-] (real ones are 28 characters).</summary>
    public static bool IsOpenid(string? value) => value is not null && OpenidPattern().IsMatch(value);

    /// <summary>An openid fit for a log line: its first four characters.</summary>
    public static string Redact(string? openid) => openid is null ? "-" : openid.Length <= 4 ? "****" : openid[..4] + "…";

    [GeneratedRegex("^[0-9A-Za-z_\\-]{1,128}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex OpenidPattern();
}

/// <summary>An openid as a log value: formats as its first four characters only (see <see cref="SessionUser.Redact"/>).</summary>
internal readonly record struct RedactedOpenid(string? Openid)
{
    public override string ToString() => SessionUser.Redact(Openid);
}
