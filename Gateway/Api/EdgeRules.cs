using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using GroupPay.Grains.Orders;

namespace GroupPay.Gateway.Api;

/// <summary>What the edge accepts before it calls a grain (anything else is a 400), and the ids it mints.</summary>
internal static partial class EdgeRules
{
    /// <summary>The largest group a campaign may have (docs/design.md §2.1: 2..20).</summary>
    public const int MaxGroupSize = 20;

    private const string GroupIdAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";

    /// <summary>A fresh group id: 12 of [0-9a-z] (~62 bits), minted here and passed to the OrderGrain.</summary>
    public static string NewGroupId() => RandomNumberGenerator.GetString(GroupIdAlphabet, 12);

    /// <summary>The group id of a create retried under one client request id (<c>x-requestid</c>): the same user and id
    /// always name the same group, so the retry finds it instead of holding a second unit; another user's same id names
    /// another group.</summary>
    public static string GroupIdFor(string openid, string requestId)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"grouppay/create-group\n{openid}\n{requestId}"), hash);
        Span<char> id = stackalloc char[12];
        for (var i = 0; i < id.Length; i++)
        {
            id[i] = GroupIdAlphabet[hash[i] % GroupIdAlphabet.Length];
        }
        return new string(id);
    }

    /// <summary>Client request ids: 8..64 of [0-9A-Za-z_-] (a GUID, as eShop's clients send, fits).</summary>
    public static bool IsRequestId(string? value) => value is not null && RequestIdPattern().IsMatch(value);

    public static bool IsGroupId(string? value) => TradeNumbers.IsValidGroupId(value);

    /// <summary>Campaign ids: 1..64 of [0-9A-Za-z_-].</summary>
    public static bool IsCampaignId(string? value) => value is not null && CampaignIdPattern().IsMatch(value);

    /// <summary>Referral codes as the ReferralGrain mints them (8 of [0-9a-z]); 4..32 accepted.</summary>
    public static bool IsReferralCode(string? value) => value is not null && ReferralCodePattern().IsMatch(value);

    public static bool IsSlot(int slot) => slot is >= 0 and < MaxGroupSize;

    /// <summary>The client's address for <c>spbill_create_ip</c> (IPv4-mapped addresses as plain IPv4).</summary>
    public static string ClientIp(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address
            ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
            : IPAddress.Loopback.ToString();

    [GeneratedRegex("^[0-9A-Za-z_\\-]{1,64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex CampaignIdPattern();

    [GeneratedRegex("^[0-9A-Za-z_\\-]{8,64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex RequestIdPattern();

    [GeneratedRegex("^[0-9a-z]{4,32}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ReferralCodePattern();
}
