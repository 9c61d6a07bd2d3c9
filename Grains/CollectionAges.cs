namespace GroupPay.Grains;

/// <summary>
/// How long an idle activation of each per-group or per-user grain stays in memory (Orleans' default is 15 minutes).
/// Each activation costs the silo about 3.8 KB of Orleans' own bookkeeping plus its state, and every one of them is
/// traced by each garbage collection: at 100,000 groups set up in a minute (four activations per group: the order, the
/// leader's referral and code, the leader's stock limit) the silo's heap was 1.5 GB and its gen0/gen1 pauses took 24 %
/// of the notify benchmark's measured phase (bench/README.md). Shorter ages keep the heap to what is being used; an
/// activation that is needed again costs one state read.
/// </summary>
internal static class CollectionAges
{
    /// <summary>A group is busy around its joins and payments and while people watch its page (the event stream reads
    /// it every second); its deadline wakes it again by reminder.</summary>
    public const double OrderMinutes = 5;

    /// <summary>A user is touched when they start, join or pay and when a reward is granted; a KOL's grain stays busy.</summary>
    public const double ReferralMinutes = 5;

    /// <summary>A referral code is resolved when a link is followed, a user's stock limit when they start, join or
    /// their unit is sold or released: one call each, then nothing for a long time.</summary>
    public const double OneCallMinutes = 2;
}
