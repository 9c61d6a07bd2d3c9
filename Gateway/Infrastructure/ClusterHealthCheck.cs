using GroupPay.Grains.Operations;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>
/// Ready when this gateway reaches the cluster: <see cref="Pings"/> pings under different keys, which the Orleans client
/// spreads over its gateway connections, each answered by whichever silo it reaches (a stateless worker: no grain
/// directory, no storage). One answer within <see cref="Timeout"/> is enough, so a dead or frozen silo does not make a
/// gateway NotReady while another silo serves it; none means this gateway reaches no silo.
/// </summary>
public sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public const int Pings = 4;

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        var first = Random.Shared.Next(1024);
        var pings = Enumerable.Range(0, Pings).Select(i => grains.GetGrain<IClusterPingGrain>(first + i).PingAsync(deadline.Token)).ToList();
        var failures = new List<Exception>();
        while (pings.Count > 0)
        {
            var done = await Task.WhenAny(pings);
            pings.Remove(done);
            if (done.IsCompletedSuccessfully)
            {
                await deadline.CancelAsync(); // the pings still out
                return HealthCheckResult.Healthy();
            }
            failures.Add(done.Exception?.GetBaseException() ?? new OperationCanceledException());
        }
        cancellationToken.ThrowIfCancellationRequested();
        return HealthCheckResult.Unhealthy("No silo answers this gateway.", new AggregateException(failures));
    }
}
