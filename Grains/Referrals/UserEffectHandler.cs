using GroupPay.Grains.Archive;
using GroupPay.Grains.Ledger;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Outbox;
using Microsoft.Extensions.Logging;

namespace GroupPay.Grains.Referrals;

/// <summary>Carries out a user's outbox effects for the <see cref="OutboxRunner{TEffect}"/>: one step of their archiving
/// (<see cref="UserRetention"/> decides what it copies), and its reports to the operator queue. What a step changes
/// in Redis (the marks it archived) is added to <paramref name="writes"/>, stored with the state by the grain.</summary>
public sealed partial class UserEffectHandler(
    IGrainFactory grainFactory,
    string openid,
    ReferralState state,
    ReferralStore ledger,
    IUserArchive archive,
    CountedChanges writes,
    TimeProvider timeProvider,
    ILogger logger) : IOutboxHandler<PendingEffect>
{
    public async Task<EffectResult> RunAsync(PendingEffect effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        switch (effect.Kind)
        {
            case EffectKind.Archive:
                return await ArchiveStepAsync(effect);
            case EffectKind.RaiseItem:
                await grainFactory.GetGrain<IOperatorQueueGrain>(0).RaiseAsync(effect.Report!);
                return EffectResult.Done;
            case EffectKind.SettleItem:
                await grainFactory.GetGrain<IOperatorQueueGrain>(0).SettleAsync(effect.Subject, "settled by GroupPay");
                return EffectResult.Done;
            default:
                throw new InvalidOperationException($"Not a user's effect: {effect.Kind}.");
        }
    }

    /// <summary>Copies one batch to the archive with the user's record as it is now; the progress is stored only after
    /// the archive took it. Done (and <see cref="ReferralState.ArchivedAt"/> set) once nothing is left; a user who is no
    /// longer settled is not archived (the change that settles them queues it again).</summary>
    private async Task<EffectResult> ArchiveStepAsync(PendingEffect effect)
    {
        if (!UserRetention.IsSettled(state))
        {
            return EffectResult.Done;
        }
        var now = timeProvider.GetUtcNow();
        var invited = ledger.InviteeCountAsync(openid);
        switch (UserRetention.NextStep(state))
        {
            case ArchiveStep.WalkRewards:
            {
                var rewards = await ledger.RewardsAfterAsync(openid, state.WalkedRewards, UserRetention.Batch);
                await archive.StoreAsync(new UserArchiveBatch(openid, state, await invited, now, rewards, []));
                UserRetention.WalkedRewards(state, rewards);
                break;
            }
            case ArchiveStep.WalkInvitees:
            {
                var (next, invitees) = await ledger.ScanInviteesAsync(openid, state.InviteeScanCursor, UserRetention.Batch);
                await archive.StoreAsync(new UserArchiveBatch(openid, state, await invited, now, [], invitees));
                UserRetention.WalkedInvitees(state, next);
                break;
            }
            default:
            {
                var markers = await ledger.UnarchivedAsync(openid, UserRetention.Batch);
                var (paymentIds, invitees) = UserRetention.Parse(markers);
                var rewards = paymentIds.Count == 0 ? [] : await ledger.RewardsAsync(openid, paymentIds);
                await archive.StoreAsync(new UserArchiveBatch(openid, state, await invited, now, rewards, invitees));
                if (UserRetention.ArchivedChanges(openid, markers, writes))
                {
                    state.ArchivedAt = now;
                    return EffectResult.Done;
                }
                break;
            }
        }
        // More to copy: the next step in the grain's next turn, after this one's progress is stored.
        effect.NotBefore = now;
        return EffectResult.Waiting;
    }

    public bool ChangesState(PendingEffect effect) => true;

    public bool Escalate(PendingEffect effect, string reason, DateTimeOffset now) =>
        UserRetention.RaiseFailingEffect(state, openid, effect, reason, now);

    public void Settled(PendingEffect effect, DateTimeOffset now) => UserRetention.SettleItem(state, openid, effect, now);

    public void Failed(PendingEffect effect, string reason)
    {
        ArgumentNullException.ThrowIfNull(effect);
        LogEffectFailed(logger, Masked(openid), effect.Kind, effect.Failures, reason);
    }

    /// <summary>An openid as logs may show it (never in full).</summary>
    public static string Masked(string openid) => openid.Length <= 6 ? "…" : openid[..6] + "…";

    [LoggerMessage(Level = LogLevel.Warning, Message = "User {User}: effect {Kind} failed (try {Failures}): {Error}")]
    private static partial void LogEffectFailed(ILogger logger, string user, EffectKind kind, int failures, string error);
}
