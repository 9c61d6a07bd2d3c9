namespace GroupPay.Grains.Referrals;

/// <summary>The users' retention (section <c>Referrals</c>; docs/retention.md).</summary>
public sealed class ReferralOptions
{
    public const string SectionName = "Referrals";

    /// <summary>How long a settled user's record stays in the grain store after its last change was archived (with an
    /// archive configured): their state, their ledger's keys and their referral code expire then, unless a later change
    /// renews it. Longer than WeChat's one-year refund window, so a reward's reversal after a late refund finds the
    /// inviter in the grain store, like the groups' <c>Orders__Retention</c>.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>How long after a change a settled user is archived: the changes of one visit (profile, join, pay) are
    /// archived once.</summary>
    public TimeSpan ArchiveAfter { get; set; } = TimeSpan.FromMinutes(10);
}
