namespace GroupPay.Testing;

/// <summary>
/// The ClusterId and ServiceId a test cluster and its clients share. Membership rows, grain state and reminders are
/// all keyed by them, so clusters with different identities never see each other's data in one Redis.
/// </summary>
public sealed record ClusterIdentity(string ClusterId, string ServiceId)
{
    /// <summary>A fresh identity, e.g. <c>silo-3f2a…</c> / <c>silo-3f2a…-svc</c>.</summary>
    public static ClusterIdentity Unique(string name = "test")
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var id = name + "-" + Guid.NewGuid().ToString("N")[..12];
        return new ClusterIdentity(id, id + "-svc");
    }
}
