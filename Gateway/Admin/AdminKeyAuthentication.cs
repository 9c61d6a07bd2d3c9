using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using GroupPay.Gateway.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Admin;

/// <summary>
/// The <c>X-Admin-Key</c> header as an authentication scheme, so the check runs before the endpoint binds its body:
/// compared in constant time with <c>Gateway:AdminKey</c>; without the header or with a wrong key the challenge is a
/// 401 problem, and while no key is configured every admin endpoint answers 404.
/// </summary>
internal sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggers,
    UrlEncoder encoder,
    IOptions<GatewayOptions> gateway) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggers, encoder)
{
    public const string SchemeName = "AdminKey";
    public const string PolicyName = "admin";
    public const string HeaderName = "X-Admin-Key";
    private const string RoleClaim = "grouppay:role";

    public static void AddPolicy(Microsoft.AspNetCore.Authorization.AuthorizationBuilder authorization) =>
        authorization.AddPolicy(PolicyName, policy => policy
            .AddAuthenticationSchemes(SchemeName)
            .RequireAuthenticatedUser()
            .RequireClaim(RoleClaim, "admin"));

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = gateway.Value.AdminKey;
        if (string.IsNullOrEmpty(key) || !Request.Headers.TryGetValue(HeaderName, out var given))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (given.Count != 1 || !Matches(given.ToString(), key))
        {
            return Task.FromResult(AuthenticateResult.Fail("Wrong admin key."));
        }
        var identity = new ClaimsIdentity([new Claim(RoleClaim, "admin")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        string.IsNullOrEmpty(gateway.Value.AdminKey)
            ? Problems.WriteAsync(Context, StatusCodes.Status404NotFound, "not-found", "Not found.")
            : Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "admin-key", $"A valid {HeaderName} header is required.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, StatusCodes.Status403Forbidden, "forbidden", "Not allowed.");

    /// <summary>Constant time whatever the lengths: both sides are hashed first.</summary>
    private static bool Matches(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
