namespace GroupPay.Grains.Referrals;

[GenerateSerializer, Immutable, Alias("grouppay.ReferralProfile")]
public sealed record ReferralProfile(
    [property: Id(0)] string Openid,
    [property: Id(1)] string ReferralCode,
    [property: Id(2)] bool HasPaid,
    [property: Id(3)] bool HasInviter);

public enum BindingOutcome
{
    Bound,
    AlreadyBound,
    UnknownCode,
    SelfReferral,
    Loop,
    AlreadyPaid,
}

[GenerateSerializer, Immutable, Alias("grouppay.InviterBinding")]
public sealed record InviterBinding([property: Id(0)] BindingOutcome Outcome, [property: Id(1)] string? InviterOpenid);

[GenerateSerializer, Immutable, Alias("grouppay.PayerRecord")]
public sealed record PayerRecord(
    [property: Id(0)] bool FirstPayment,
    [property: Id(1)] string? InviterOpenid);

public enum RewardStatus
{
    Pending,
    Granted,
    Reversed,
}

[GenerateSerializer, Immutable, Alias("grouppay.RewardEntry")]
public sealed record RewardEntry(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] string CampaignId,
    [property: Id(2)] long AmountFen,
    [property: Id(3)] int DailyCap,
    [property: Id(4)] DateTimeOffset EarnedAt);

[GenerateSerializer, Immutable, Alias("grouppay.RewardLine")]
public sealed record RewardLine(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] long AmountFen,
    [property: Id(2)] RewardStatus Status);

/// <summary>The totals of the user's whole ledger and one page of it, newest first; <see cref="Next"/> is the cursor of
/// the next (older) page, null on the last.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.RewardSummary")]
public sealed record RewardSummary(
    [property: Id(0)] string ReferralCode,
    [property: Id(1)] int InvitedCount,
    [property: Id(2)] long PendingFen,
    [property: Id(3)] long GrantedFen,
    [property: Id(4)] long ReversedFen,
    [property: Id(5)] IReadOnlyList<RewardLine> Rewards,
    [property: Id(6)] long? Next = null);
