using Orleans.Concurrency;

namespace GroupPay.Grains.Operations;

/// <inheritdoc cref="IClusterPingGrain"/>
[GrainType("cluster-ping"), StatelessWorker]
public sealed class ClusterPingGrain : Grain, IClusterPingGrain
{
    public Task PingAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
}
