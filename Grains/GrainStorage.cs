namespace GroupPay.Grains;

/// <summary>The grain storage provider every GroupPay grain persists to (Redis; the silo registers it).</summary>
public static class GrainStorage
{
    public const string Name = "redis";
}
