namespace GroupPay.Grains.Orders;

/// <summary>
/// Our <c>out_trade_no</c>s and <c>out_refund_no</c>s carry the group id, so a notify routes to its
/// OrderGrain without a lookup: <c>{groupId}P{attempt}</c>, and for its n-th refund <c>{groupId}P{attempt}R{n}</c>
/// (n from 1; a closed refund is retried under the next n, since WeChat treats a repeated number as the same, closed,
/// refund). Refunds of the first release were <c>{groupId}P{attempt}R</c>, read as n = 0. Group ids are lower-case
/// [0-9a-z], so the upper-case separators are unambiguous.
/// </summary>
public static class TradeNumbers
{
    private const char Separator = 'P';

    /// <summary>Group ids: 6..24 characters of [0-9a-z] (lower case, so the upper-case separator is unambiguous).</summary>
    public static bool IsValidGroupId(string? groupId) =>
        groupId is { Length: >= 6 and <= 24 } && groupId.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'z'));

    public static string OutTradeNo(string groupId, int attempt) => $"{groupId}{Separator}{attempt}";

    private const char RefundSeparator = 'R';

    /// <summary>The <paramref name="sequence"/>-th refund number of a payment (0: the first release's <c>…R</c>).</summary>
    public static string OutRefundNo(string outTradeNo, int sequence) =>
        sequence == 0 ? outTradeNo + RefundSeparator : $"{outTradeNo}{RefundSeparator}{sequence}";

    /// <summary>Which of <paramref name="outTradeNo"/>'s refund numbers <paramref name="outRefundNo"/> is, or null when it
    /// is not one GroupPay issues (a refund made in WeChat's merchant console, say).</summary>
    public static int? RefundSequenceOf(string outTradeNo, string? outRefundNo)
    {
        ArgumentNullException.ThrowIfNull(outTradeNo);
        if (outRefundNo is null || outRefundNo.Length <= outTradeNo.Length || !outRefundNo.StartsWith(outTradeNo, StringComparison.Ordinal)
            || outRefundNo[outTradeNo.Length] != RefundSeparator)
        {
            return null;
        }
        var digits = outRefundNo.AsSpan(outTradeNo.Length + 1);
        if (digits.IsEmpty)
        {
            return 0;
        }
        if (digits.Length > 4 || digits[0] == '0' || !int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var sequence))
        {
            return null;
        }
        return sequence;
    }

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
