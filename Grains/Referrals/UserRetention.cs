using GroupPay.Grains.Ledger;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Orders;

namespace GroupPay.Grains.Referrals;

/// <summary>What one step of a user's archiving copies (<see cref="UserRetention.NextStep"/>).</summary>
public enum ArchiveStep
{
    /// <summary>The first walk: the next rewards by sequence.</summary>
    WalkRewards,

    /// <summary>The first walk: the next invitees of a scan.</summary>
    WalkInvitees,

    /// <summary>What changed since (<see cref="ReferralStore.UnarchivedKey"/>).</summary>
    Changes,
}

/// <summary>
/// The users' retention rules (docs/retention.md), no I/O: when a user is settled and archived, what marks a change as
/// not yet archived, which keys leave the grain store with the user's state, and how the archive's steps move on. The
/// state's keys get their expiry only in the write that follows the archive becoming current, and lose it in any later
/// write, so a user whose keys expire is always in the archive as they were last stored.
/// </summary>
public static class UserRetention
{
    /// <summary>How many rewards or invitees one archive step copies (one transaction, one state write).</summary>
    public const int Batch = 1000;

    public const string ArchiveSubject = "user";

    /// <summary>Nothing is left to happen to the user's money by itself: no reward is pending (none waits for its
    /// group or its grant time; every one is granted or reversed), and the state holds no ledger from before the ledger
    /// left it. Their outbox holds nothing but their own archiving.</summary>
    public static bool IsSettled(ReferralState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.PendingFen == 0 && state.Rewards.Count == 0 && state.Invitees.Count == 0;
    }

    /// <summary>A change is being stored: the archived copy is not current any more (the keys lose their expiry with
    /// this write), the rewards it touches are marked for the archive, and the user's archiving is queued
    /// <paramref name="after"/> from now when they are settled and none is queued.</summary>
    public static void Changed(ReferralState state, string openid, CountedChanges writes, DateTimeOffset now, TimeSpan after)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(writes);
        state.ArchivedAt = null;
        var rewards = ReferralStore.RewardsKey(openid);
        foreach (var write in writes.Writes.Where(w => w.Command == StoreCommand.HashSet && w.Key == rewards).ToList())
        {
            writes.Write(new StoreWrite(StoreCommand.SetAdd, ReferralStore.UnarchivedKey(openid), RewardMarker(write.Argument)));
        }
        if (IsSettled(state) && !state.Outbox.Any(e => e.Kind == EffectKind.Archive))
        {
            state.Outbox.Add(new PendingEffect { Kind = EffectKind.Archive, Subject = ArchiveSubject, NotBefore = now + after, QueuedAt = now });
        }
    }

    /// <summary>A new invitee: in the set, and marked for the archive, in the state's write.</summary>
    public static void AddInvitee(string openid, string invitee, CountedChanges writes)
    {
        ArgumentNullException.ThrowIfNull(writes);
        writes.Write(new StoreWrite(StoreCommand.SetAdd, ReferralStore.InviteesKey(openid), invitee))
            .Write(new StoreWrite(StoreCommand.SetAdd, ReferralStore.UnarchivedKey(openid), InviteeMarker(invitee)));
    }

    public static string RewardMarker(string paymentId) => "r|" + paymentId;

    public static string InviteeMarker(string invitee) => "i|" + invitee;

    /// <summary>The payments and invitees that marks name.</summary>
    public static (IReadOnlyList<string> PaymentIds, IReadOnlyList<string> Invitees) Parse(IEnumerable<string> markers)
    {
        ArgumentNullException.ThrowIfNull(markers);
        var payments = new List<string>();
        var invitees = new List<string>();
        foreach (var marker in markers)
        {
            (marker.StartsWith("r|", StringComparison.Ordinal) ? payments : invitees).Add(marker[2..]);
        }
        return (payments, invitees);
    }

    /// <summary>The keys that live and leave with the user's state: the ledger's (the China days' counts expire by
    /// themselves) and their referral code's.</summary>
    public static IEnumerable<string> CompanionKeys(string openid, string? referralCode)
    {
        yield return ReferralStore.InviteesKey(openid);
        yield return ReferralStore.RewardsKey(openid);
        yield return ReferralStore.OrderKey(openid);
        yield return ReferralStore.GrantsKey(openid);
        yield return ReferralStore.UnarchivedKey(openid);
        if (referralCode is not null)
        {
            yield return ReferralStore.CodeStateKey(referralCode);
        }
    }

    /// <summary>What the state's write does to the keys' expiry: set when the archive became current, removed when
    /// the state changed after it was; null when neither.</summary>
    public static TimeSpan? Expiry(DateTimeOffset? storedArchivedAt, DateTimeOffset? archivedAt, TimeSpan retention) =>
        archivedAt == storedArchivedAt ? null : archivedAt is null ? TimeSpan.MaxValue : retention;

    /// <summary>The archive's next step: first the whole ledger once (rewards by sequence, then the invitees), then only
    /// what changed since.</summary>
    public static ArchiveStep NextStep(ReferralState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.LedgerWalked ? ArchiveStep.Changes
            : state.WalkedRewards < state.RewardCount ? ArchiveStep.WalkRewards
            : ArchiveStep.WalkInvitees;
    }

    /// <summary>The archive took the rewards of a walk step: the walk goes on after the last (to the end when there was
    /// none left).</summary>
    public static void WalkedRewards(ReferralState state, IReadOnlyList<StoredReward> rewards)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(rewards);
        state.WalkedRewards = rewards.Count == 0 ? state.RewardCount : Math.Max(state.WalkedRewards, rewards[^1].Sequence);
    }

    /// <summary>The archive took the invitees of a scan step; the walk ends with the scan.</summary>
    public static void WalkedInvitees(ReferralState state, long nextCursor)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.InviteeScanCursor = nextCursor;
        state.LedgerWalked = nextCursor == 0;
    }

    /// <summary>The archive took these marks' changes: they leave the set in the state's write. True when they were the
    /// last (fewer than a batch): the archive is then current.</summary>
    public static bool ArchivedChanges(string openid, IReadOnlyList<string> markers, CountedChanges writes)
    {
        ArgumentNullException.ThrowIfNull(markers);
        ArgumentNullException.ThrowIfNull(writes);
        foreach (var marker in markers)
        {
            writes.Write(new StoreWrite(StoreCommand.SetRemove, ReferralStore.UnarchivedKey(openid), marker));
        }
        return markers.Count < Batch;
    }

    /// <summary>The user's archiving failing for longer than the threshold: reported (it is still retried); false for
    /// the reports themselves.</summary>
    public static bool RaiseFailingEffect(ReferralState state, string openid, PendingEffect effect, string error, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(effect);
        if (effect.Kind is EffectKind.RaiseItem or EffectKind.SettleItem)
        {
            return false;
        }
        var report = new OperatorItemReport(ItemId(openid, effect), OperatorItemKind.EffectFailing, null, null, 0,
            $"{effect.Kind} of user {openid} has failed since {effect.FailingSince:u}; still retried", error, [], now);
        state.Outbox.Add(new PendingEffect { Kind = EffectKind.RaiseItem, Subject = "item:" + report.ItemId, NotBefore = now, QueuedAt = now, Report = report });
        return true;
    }

    /// <summary>An escalated effect succeeded: its item is settled.</summary>
    public static void SettleItem(ReferralState state, string openid, PendingEffect effect, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(effect);
        state.Outbox.Add(new PendingEffect { Kind = EffectKind.SettleItem, Subject = ItemId(openid, effect), NotBefore = now, QueuedAt = now });
    }

    public static string ItemId(string openid, PendingEffect effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        return $"effect:user:{openid}:{effect.Kind}";
    }

    /// <summary>When the <c>wake</c> reminder should next fire: the soonest effect's time, but no sooner than a period
    /// from now (what is due now runs in the grain's next turn; the reminder is the safety net); null with no effect.</summary>
    public static DateTimeOffset? NextWake(ReferralState state, DateTimeOffset now, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Outbox.Count == 0)
        {
            return null;
        }
        var soonest = state.Outbox.Min(e => e.NotBefore);
        return soonest > now + period ? soonest : now + period;
    }
}
