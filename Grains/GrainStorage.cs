namespace GroupPay.Grains;

/// <summary>The grain storage providers GroupPay's grains persist to (both Redis; the silo registers them).</summary>
public static class GrainStorage
{
    /// <summary>Orleans' Redis grain storage.</summary>
    public const string Name = "redis";

    /// <summary>The groups' and users' storage: the same Redis layout, and what a state counts is committed with it
    /// (<see cref="Ledger.CountedGrainStorage"/>).</summary>
    public const string Counted = "counted";
}
