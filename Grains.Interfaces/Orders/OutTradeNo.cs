namespace GroupPay.Grains.Orders;

/// <summary>
/// Our <c>out_trade_no</c>s and <c>out_refund_no</c>s carry the group id, so a notify routes to its
/// OrderGrain without a lookup: <c>{groupId}P{attempt}</c> and <c>{groupId}P{attempt}R</c>. Group ids are
/// lower-case [0-9a-z], so the upper-case separator is unambiguous.
/// </summary>
public static class TradeNumbers
{
    private const char Separator = 'P';

    /// <summary>Group ids: 6..24 characters of [0-9a-z] (lower case, so the upper-case separator is unambiguous).</summary>
    public static bool IsValidGroupId(string? groupId) =>
        groupId is { Length: >= 6 and <= 24 } && groupId.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'z'));

    public static string OutTradeNo(string groupId, int attempt) => $"{groupId}{Separator}{attempt}";

    public static string OutRefundNo(string outTradeNo) => outTradeNo + "R";

    /// <summary>The group an <c>out_trade_no</c> belongs to, or null when it is not one of ours.</summary>
    public static string? GroupIdOf(string? outTradeNo)
    {
        if (outTradeNo is null)
        {
            return null;
        }
        var at = outTradeNo.LastIndexOf(Separator);
        if (at < 0 || at == outTradeNo.Length - 1 || !outTradeNo.AsSpan(at + 1).ToString().All(char.IsAsciiDigit))
        {
            return null;
        }
        var groupId = outTradeNo[..at];
        return IsValidGroupId(groupId) ? groupId : null;
    }
}
