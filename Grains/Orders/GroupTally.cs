using GroupPay.Grains.Ledger;
using GroupPay.Grains.Stats;

namespace GroupPay.Grains.Orders;

/// <summary>
/// What one stored group contributes to the growth figures and to the payment ledger, as of its
/// <see cref="Revision"/>. The group's counts are stored with the change that made them true (in the same state
/// write), so a tally is only ever taken of stored state; it is delivered at least once and applied where it lands only
/// if its revision is newer than the one applied (as the difference from what that group contributed before).
/// </summary>
public sealed record GroupTally(
    string GroupId,
    string CampaignId,
    long Revision,
    IReadOnlyDictionary<string, long> Counts,
    IReadOnlyList<LedgerEntry> Ledger)
{
    public static GroupTally Of(string groupId, OrderState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new(groupId, state.CampaignId ?? "", state.Revision, new Dictionary<string, long>(state.Counts, StringComparer.Ordinal), [.. LedgerOf(groupId, state)]);
    }

    /// <summary>The payments WeChat took (dated by their time_end) and the refunds WeChat accepted or that were made
    /// outside GroupPay and taken in.</summary>
    public static IEnumerable<LedgerEntry> LedgerOf(string groupId, OrderState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var attempt in state.Attempts.Values.Where(a => a.TransactionId is not null).OrderBy(a => a.OutTradeNo, StringComparer.Ordinal))
        {
            yield return new LedgerEntry(LedgerEntryKind.Payment, groupId, attempt.OutTradeNo, null, attempt.TransactionId, attempt.AmountFen, attempt.PaidAt!.Value);
            if (attempt.RefundAtWeChat is { } accepted)
            {
                yield return new LedgerEntry(LedgerEntryKind.Refund, groupId, attempt.OutTradeNo, attempt.OutRefundNo, attempt.RefundId, attempt.AmountFen, accepted);
            }
            foreach (var external in attempt.ExternalRefunds)
            {
                yield return new LedgerEntry(LedgerEntryKind.Refund, groupId, attempt.OutTradeNo, external.OutRefundNo, external.RefundId, external.AmountFen, external.At);
            }
        }
    }
}

/// <summary>The names under which a group stores its counts: a counter of both the campaign and the shop, or of
/// one of them only (a seed user is new to a campaign, or to the shop, independently).</summary>
public static class TallyField
{
    private const string CampaignOnlyPrefix = "c:";
    private const string TotalOnlyPrefix = "t:";

    private static readonly string[] Names = Enum.GetNames<Counter>();

    public static string Both(Counter counter) => (uint)counter < (uint)Names.Length ? Names[(int)counter] : counter.ToString();

    public static string CampaignOnly(Counter counter) => CampaignOnlyPrefix + counter;

    public static string TotalOnly(Counter counter) => TotalOnlyPrefix + counter;

    /// <summary>The counter a field counts and whether it counts in the campaign's scope and the shop's.</summary>
    public static (Counter Counter, bool InCampaign, bool InTotal) Parse(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.StartsWith(CampaignOnlyPrefix, StringComparison.Ordinal) ? (Enum.Parse<Counter>(field.AsSpan(2)), true, false)
            : field.StartsWith(TotalOnlyPrefix, StringComparison.Ordinal) ? (Enum.Parse<Counter>(field.AsSpan(2)), false, true)
            : (Enum.Parse<Counter>(field), true, true);
    }
}
