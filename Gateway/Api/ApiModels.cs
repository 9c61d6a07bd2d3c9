using System.Globalization;
using System.Text.Json.Serialization;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Referrals;
using GroupPay.Grains.Stats;

namespace GroupPay.Gateway.Api;

// The H5 JSON of docs/api.md §3.1: camelCase (the web defaults), times ISO-8601 UTC ("Z"), money in integer fen, statuses as
// lower-case strings. Built from the grains' views at the edge; no openid but the caller's own ever appears.

internal sealed record CampaignJson(
    string CampaignId,
    string Title,
    long SoloPriceFen,
    long GroupPriceFen,
    int GroupSize,
    int WindowMinutes,
    int Stock,
    int RemainingStock,
    bool Active,
    string? ImageUrl,
    string? Description)
{
    public static CampaignJson From(CampaignView view) => new(
        view.CampaignId,
        view.Definition.Title,
        view.Definition.SoloPriceFen,
        view.Definition.GroupPriceFen,
        view.Definition.GroupSize,
        view.Definition.WindowMinutes,
        view.Definition.Stock,
        view.RemainingStock,
        view.Active,
        view.Definition.ImageUrl,
        view.Definition.Description);
}

/// <summary>A group one can join, as the campaign's 凑团 list shows it (<c>GET /api/campaigns/{id}/groups</c>).</summary>
internal sealed record OpenGroupJson(string GroupId, int GroupSize, int PaidCount, int FreeSlots, DateTime? Deadline)
{
    public static OpenGroupJson From(GroupView view) => new(
        view.GroupId,
        view.GroupSize,
        view.PaidCount,
        view.Slots.Count(s => s.Status == SlotStatus.Free),
        view.Deadline?.UtcDateTime);
}

/// <summary><c>member</c>: how to name the slot's member (<see cref="MemberTags"/>), absent for a free or virtual slot.</summary>
internal sealed record SlotJson(
    int Index, string Status, bool IsLeader, bool IsMine, bool PaidOnBehalf,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Member = null);

internal sealed record GroupJson(
    string GroupId,
    string CampaignId,
    string Status,
    int GroupSize,
    int PaidCount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTime? Deadline,
    string ShareUrl,
    IReadOnlyList<SlotJson> Slots,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? MySlot,
    IReadOnlyList<MyRefundJson> MyRefunds)
{
    public static GroupJson From(GroupView view, string shareUrl) => new(
        view.GroupId,
        view.CampaignId,
        Lower(view.Status),
        view.GroupSize,
        view.PaidCount,
        view.Deadline?.UtcDateTime,
        shareUrl,
        [.. view.Slots.Select(s => new SlotJson(s.Index, Lower(s.Status), s.IsLeader, s.IsMine, s.PaidOnBehalf, s.MemberTag))],
        view.MySlot,
        [.. (view.MyRefunds ?? []).Select(MyRefundJson.From)]);

    /// <summary>Whether two snapshots differ in anything a viewer sees (the lists compare by content).</summary>
    public bool SameAs(GroupJson other) =>
        Slots.SequenceEqual(other.Slots) && MyRefunds.SequenceEqual(other.MyRefunds)
        && this with { Slots = other.Slots, MyRefunds = other.MyRefunds } == other;

    internal static string Lower<T>(T value)
        where T : struct, Enum =>
        value.ToString().ToLowerInvariant();
}

/// <summary>One of the viewer's payments being refunded: <c>status</c> <c>refunding</c> or <c>refunded</c>; <c>reason</c>
/// <c>not-used</c> (the slot was already paid, or the attempt was over) or <c>group-failed</c>.</summary>
internal sealed record MyRefundJson(long AmountFen, string Status, string Reason)
{
    public static MyRefundJson From(MyRefundView refund) =>
        new(refund.AmountFen, refund.Refunded ? "refunded" : "refunding", refund.Unused ? "not-used" : "group-failed");
}

internal sealed record JsapiJson(string AppId, string TimeStamp, string NonceStr, string Package, string SignType, string PaySign);

internal sealed record PaymentJson(string OutTradeNo, long AmountFen, DateTime ExpiresAt, JsapiJson Jsapi)
{
    public static PaymentJson From(PaymentStarted started) => new(
        started.OutTradeNo,
        started.AmountFen,
        started.ExpiresAt.UtcDateTime,
        new JsapiJson(started.Jsapi.AppId, started.Jsapi.TimeStamp, started.Jsapi.NonceStr, started.Jsapi.Package, started.Jsapi.SignType, started.Jsapi.PaySign));
}

internal sealed record MeJson(string Openid, string ReferralCode);

internal sealed record RewardJson(string PaymentId, long AmountFen, string Status);

internal sealed record RewardsJson(
    string ReferralCode,
    int InvitedCount,
    long PendingFen,
    long GrantedFen,
    long ReversedFen,
    IReadOnlyList<RewardJson> Rewards,
    string? Next)
{
    public static RewardsJson From(RewardSummary summary) => new(
        summary.ReferralCode,
        summary.InvitedCount,
        summary.PendingFen,
        summary.GrantedFen,
        summary.ReversedFen,
        [.. summary.Rewards.Select(r => new RewardJson(r.PaymentId, r.AmountFen, GroupJson.Lower(r.Status)))],
        summary.Next?.ToString(CultureInfo.InvariantCulture));
}

internal sealed record FunnelJson(long LinkOpened, long Joined, long Paid);

internal sealed record StatsJson(
    long PaymentsCreated,
    long PaymentsPaid,
    long PaymentsRefunded,
    double? PaymentSuccessRate,
    long GroupsOpened,
    long GroupsCompleted,
    long GroupsFailed,
    long SeedUsers,
    long NewUsers,
    double? FissionK,
    bool FissionKValid,
    double? ViralK,
    FunnelJson Funnel)
{
    public static StatsJson From(GrowthStats stats) => new(
        stats.PaymentsCreated,
        stats.PaymentsPaid,
        stats.PaymentsRefunded,
        stats.PaymentSuccessRate,
        stats.GroupsOpened,
        stats.GroupsCompleted,
        stats.GroupsFailed,
        stats.SeedUsers,
        stats.NewUsers,
        stats.FissionK,
        stats.FissionKValid,
        stats.ViralK,
        new FunnelJson(stats.LinkOpened, stats.Joined, stats.Paid));
}

/// <summary><c>GET /admin/stats/recount</c>: per counter, what the stored groups say and what the live counter says.</summary>
internal sealed record RecountJson(string CampaignId, int Groups, bool Matches, IReadOnlyList<RecountCounterJson> Counters)
{
    public static RecountJson From(RecountReport report) => new(report.CampaignId, report.Groups, report.Matches,
        [.. report.Counters.Select(c => new RecountCounterJson(System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(c.Counter.ToString()), c.Stored, c.Live))]);
}

internal sealed record RecountCounterJson(string Counter, long Stored, long Live);

internal sealed record OperatorActionJson(DateTime At, string Actor, string Action, string? Note);

/// <summary>An operator item; lists leave out its log (<see cref="Actions"/>, <see cref="EarlierActions"/>).</summary>
internal sealed record OperatorItemJson(
    string ItemId,
    string Kind,
    string Status,
    string? GroupId,
    string? OutTradeNo,
    long AmountFen,
    string Summary,
    string? LastAnswer,
    IReadOnlyList<string> Tried,
    DateTime FirstSeen,
    DateTime LastSeen,
    int Reports,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<OperatorActionJson>? Actions,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? EarlierActions)
{
    public static OperatorItemJson From(OperatorItem item, bool withActions) => new(
        item.ItemId,
        OperatorItemKinds.Name(item.Kind),
        GroupJson.Lower(item.Status),
        item.GroupId,
        item.OutTradeNo,
        item.AmountFen,
        item.Summary,
        item.LastAnswer,
        item.Tried,
        item.FirstSeen.UtcDateTime,
        item.LastSeen.UtcDateTime,
        item.Reports,
        withActions ? [.. item.Actions.Select(a => new OperatorActionJson(a.At.UtcDateTime, a.Actor, a.Action, a.Note))] : null,
        withActions ? item.EarlierActions : null);
}

internal sealed record OperatorPageJson(IReadOnlyList<OperatorItemJson> Items, string? Next);

internal sealed record OperatorCountsJson(IReadOnlyDictionary<string, int> OpenByKind, DateTime? OldestOpen)
{
    public static OperatorCountsJson From(OperatorQueueCounts counts) => new(
        OperatorItemKinds.All.ToDictionary(k => k, k => counts.OpenByKind.FirstOrDefault(p => OperatorItemKinds.Name(p.Key) == k).Value),
        counts.OldestOpen?.UtcDateTime);
}

/// <summary><c>POST /admin/operator/items/{itemId}/retry</c> and <c>…/resolve</c> (a note is required to resolve).</summary>
internal sealed record OperatorActionRequest(string? Actor, string? Note);

/// <summary><c>POST /api/groups</c>.</summary>
internal sealed record CreateGroupRequest(string? CampaignId, string? Ref);

/// <summary><c>POST /api/groups/{groupId}/pay</c>: no slot = my own; a slot = pay on behalf of its member.</summary>
internal sealed record PayRequest(int? Slot, string? Ref);

/// <summary><c>PUT /admin/campaigns/{campaignId}</c>; unset optional values take the campaign defaults.</summary>
internal sealed record CampaignRequest(
    string? Title,
    long? SoloPriceFen,
    long? GroupPriceFen,
    int? GroupSize,
    int? WindowMinutes,
    int? HoldMinutes,
    int? Stock,
    int? PerUserLimit,
    long? InviterRewardFen,
    int? RewardFreezeMinutes,
    bool? VirtualFill,
    DateTimeOffset? ActiveFrom,
    DateTimeOffset? ActiveUntil,
    int? InviterDailyRewardCap,
    int? StockShards,
    string? ImageUrl,
    string? Description)
{
    /// <summary>The definition, or the first rule broken (docs/api.md §8.1: 400 with the rule).</summary>
    public (CampaignDefinition? Definition, string? Problem) ToDefinition()
    {
        var missing = Title is null ? "title" : SoloPriceFen is null ? "soloPriceFen" : GroupPriceFen is null ? "groupPriceFen"
            : GroupSize is null ? "groupSize" : Stock is null ? "stock" : null;
        if (missing is not null)
        {
            return (null, missing + " is required");
        }
        var defaults = new CampaignDefinition { Title = "", SoloPriceFen = 0, GroupPriceFen = 0, GroupSize = 0, Stock = 0 };
        var definition = new CampaignDefinition
        {
            Title = Title!.Trim(),
            SoloPriceFen = SoloPriceFen!.Value,
            GroupPriceFen = GroupPriceFen!.Value,
            GroupSize = GroupSize!.Value,
            Stock = Stock!.Value,
            WindowMinutes = WindowMinutes ?? defaults.WindowMinutes,
            HoldMinutes = HoldMinutes ?? defaults.HoldMinutes,
            PerUserLimit = PerUserLimit ?? defaults.PerUserLimit,
            InviterRewardFen = InviterRewardFen ?? defaults.InviterRewardFen,
            RewardFreezeMinutes = RewardFreezeMinutes ?? defaults.RewardFreezeMinutes,
            VirtualFill = VirtualFill ?? defaults.VirtualFill,
            ActiveFrom = ActiveFrom,
            ActiveUntil = ActiveUntil,
            InviterDailyRewardCap = InviterDailyRewardCap ?? defaults.InviterDailyRewardCap,
            StockShards = StockShards ?? defaults.StockShards,
            ImageUrl = string.IsNullOrWhiteSpace(ImageUrl) ? null : ImageUrl.Trim(),
            Description = string.IsNullOrWhiteSpace(Description) ? null : Description.Trim().ReplaceLineEndings("\n"),
        };
        return definition.Validate() is { } problem ? (null, problem) : (definition, null);
    }
}
