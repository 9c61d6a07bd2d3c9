using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace GroupPay.WeChatPay.Sandbox;

internal static partial class OAuthRules
{
    public const string BaseScope = "snsapi_base";
    public const string UserInfoScope = "snsapi_userinfo";

    /// <summary>Codes are single-use and valid for 5 minutes, as WeChat's.</summary>
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(5);

    /// <summary>1..128 of <c>[0-9A-Za-z_-]</c> (real openids are 28 such characters).</summary>
    public static bool IsOpenid(string? value) => value is not null && OpenidPattern().IsMatch(value);

    public static bool IsScope(string? value) => value is BaseScope or UserInfoScope;

    [GeneratedRegex("^[0-9A-Za-z_\\-]{1,128}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex OpenidPattern();
}

internal sealed record OAuthGrant(string AppId, string Openid, string Scope, DateTimeOffset ExpiresAt);

/// <summary>Issued OAuth codes: random, bound to appid + openid, single-use, expiring on the sandbox clock.</summary>
internal sealed class OAuthCodes(TimeProvider clock)
{
    private const int PruneThreshold = 1024;

    private readonly ConcurrentDictionary<string, OAuthGrant> _codes = new(StringComparer.Ordinal);

    public string Issue(string appId, string openid, string scope)
    {
        var now = clock.GetUtcNow();
        if (_codes.Count > PruneThreshold)
        {
            foreach (var (code, grant) in _codes)
            {
                if (grant.ExpiresAt <= now)
                {
                    _codes.TryRemove(code, out _);
                }
            }
        }
        while (true)
        {
            var code = SandboxIds.NewToken();
            if (_codes.TryAdd(code, new OAuthGrant(appId, openid, scope, now + OAuthRules.CodeLifetime)))
            {
                return code;
            }
        }
    }

    /// <summary>Spends <paramref name="code"/>: the grant if it was issued for <paramref name="appId"/>, unused and
    /// unexpired; null otherwise. A code is spent by its first redemption, whatever the outcome.</summary>
    public OAuthGrant? Redeem(string code, string appId) =>
        _codes.TryRemove(code, out var grant) && grant.AppId == appId && grant.ExpiresAt > clock.GetUtcNow() ? grant : null;
}
