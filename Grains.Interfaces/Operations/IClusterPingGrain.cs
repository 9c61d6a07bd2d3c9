namespace GroupPay.Grains.Operations;

/// <summary>
/// A ping that any silo answers (a stateless worker, activated on the silo the call reaches, never registered in the
/// grain directory): a gateway's readiness asks it to learn whether it reaches the cluster at all, independently of
/// where any one grain lives.
/// </summary>
[Alias("grouppay.IClusterPingGrain")]
public interface IClusterPingGrain : IGrainWithIntegerKey
{
    [Alias("PingAsync")]
    Task PingAsync(CancellationToken cancellationToken = default);
}
