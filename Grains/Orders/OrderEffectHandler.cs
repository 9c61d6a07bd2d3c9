using GroupPay.Grains.Archive;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Outbox;
using GroupPay.Grains.Referrals;
using Microsoft.Extensions.Logging;

namespace GroupPay.Grains.Orders;

/// <summary>Carries out a group's outbox effects for the <see cref="OutboxRunner{TEffect}"/>: the calls to other grains
/// here, the calls to WeChat Pay through <see cref="WeChatEffects"/>.</summary>
public sealed partial class OrderEffectHandler(
    IGrainFactory grainFactory,
    GroupRules rules,
    WeChatEffects weChat,
    IGroupArchive archive,
    ILogger logger) : IOutboxHandler<PendingEffect>
{
    private OrderState State => rules.State;

    private string GroupId => rules.GroupId;

    public async Task<EffectResult> RunAsync(PendingEffect effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        var campaignId = State.CampaignId!;
        switch (effect.Kind)
        {
            case EffectKind.ConfirmStock:
                await StockUnit.Parse(effect.Subject).ShardOf(grainFactory, campaignId).ConfirmAsync(StockUnit.Parse(effect.Subject).ReservationId);
                return EffectResult.Done;
            case EffectKind.ReleaseStock:
                await StockUnit.Parse(effect.Subject).ReleaseAsync(grainFactory, campaignId);
                return EffectResult.Done;
            case EffectKind.RecordSeed:
                await grainFactory.GetGrain<IReferralGrain>(effect.Subject).RecordGroupOpenedAsync(GroupId, campaignId);
                return EffectResult.Done;
            case EffectKind.RaiseItem:
                await grainFactory.GetGrain<IOperatorQueueGrain>(0).RaiseAsync(effect.Report!);
                return EffectResult.Done;
            case EffectKind.SettleItem:
                await grainFactory.GetGrain<IOperatorQueueGrain>(0).SettleAsync(effect.Subject, "settled by GroupPay");
                return EffectResult.Done;
            case EffectKind.PublishTally:
                return EffectResult.Done;
            case EffectKind.AnnounceCompleted:
                await grainFactory.GetGrain<ICompletedGroupsGrain>(0).AppendAsync(new CompletedGroup(GroupId, campaignId, State.SettledAt ?? rules.Now, PaidMembers()));
                return EffectResult.Done;
            case EffectKind.Archive:
                // Written as the group is now (stored, since nothing but this effect was pending); a later change
                // clears ArchivedAt and archives it again.
                var archivedAt = rules.Now;
                await archive.StoreAsync(GroupId, State, archivedAt);
                State.ArchivedAt = archivedAt;
                return EffectResult.Done;
        }

        var attempt = State.Attempts[effect.Subject];
        switch (effect.Kind)
        {
            case EffectKind.RecordPayer or EffectKind.RecordLeaderPayer:
                var referral = grainFactory.GetGrain<IReferralGrain>(attempt.PayerOpenid);
                var payer = effect.Kind == EffectKind.RecordLeaderPayer
                    ? await referral.RecordLeaderPaymentAsync(attempt.OutTradeNo, campaignId, GroupId)
                    : await referral.RecordPaymentAsync(attempt.OutTradeNo, campaignId);
                attempt.InviterOpenid = payer.InviterOpenid;
                if (payer.InviterOpenid is { } inviter && rules.Terms.InviterRewardFen > 0)
                {
                    await grainFactory.GetGrain<IReferralGrain>(inviter).AddPendingRewardAsync(new RewardEntry(
                        attempt.OutTradeNo, campaignId, rules.Terms.InviterRewardFen, rules.Terms.InviterDailyRewardCap, attempt.PaidAt ?? rules.Now));
                }
                return EffectResult.Done;
            case EffectKind.ScheduleGrant:
                if (attempt.InviterOpenid is { } grantTo)
                {
                    await grainFactory.GetGrain<IReferralGrain>(grantTo).ScheduleGrantAsync(
                        attempt.OutTradeNo, State.SettledAt!.Value + TimeSpan.FromMinutes(rules.Terms.RewardFreezeMinutes));
                }
                return EffectResult.Done;
            case EffectKind.ReverseReward:
                if (attempt.InviterOpenid is { } reverseFrom)
                {
                    await grainFactory.GetGrain<IReferralGrain>(reverseFrom).ReverseRewardAsync(attempt.OutTradeNo);
                }
                return EffectResult.Done;
            case EffectKind.Reconcile:
                return await weChat.ReconcileAsync(effect, attempt);
            case EffectKind.CloseOrder:
                return await weChat.CloseAsync(attempt);
            case EffectKind.Refund:
                return await weChat.RefundAsync(attempt);
            case EffectKind.CheckRefund:
                return await weChat.CheckRefundAsync(effect, attempt);
            default:
                throw new InvalidOperationException($"Unknown effect {effect.Kind}.");
        }
    }

    /// <summary>The openids of the paid slots, in slot order (the leader's first).</summary>
    private List<string> PaidMembers() =>
        State.Slots.Where(s => s.Status == SlotStatus.Paid && s.MemberOpenid is not null).OrderBy(s => s.Index).Select(s => s.MemberOpenid!).ToList();

    /// <summary>The calls to WeChat Pay record what they learned, and the reports change the outbox's items.</summary>
    public bool ChangesState(PendingEffect effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        return effect.Kind is EffectKind.Reconcile or EffectKind.CloseOrder or EffectKind.Refund or EffectKind.CheckRefund
            or EffectKind.RaiseItem or EffectKind.SettleItem or EffectKind.Archive;
    }

    public bool Escalate(PendingEffect effect, string reason, DateTimeOffset now) => rules.RaiseFailingEffect(effect, reason, now);

    public void Settled(PendingEffect effect, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(effect);
        rules.Enqueue(EffectKind.SettleItem, effect.ItemId(GroupId), now);
    }

    public void Failed(PendingEffect effect, string reason)
    {
        ArgumentNullException.ThrowIfNull(effect);
        LogEffectFailed(logger, GroupId, effect.Kind, effect.Subject, effect.Failures, reason);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {GroupId}: effect {Kind} for {Subject} failed (try {Failures}): {Error}")]
    private static partial void LogEffectFailed(ILogger logger, string groupId, EffectKind kind, string subject, int failures, string error);
}
