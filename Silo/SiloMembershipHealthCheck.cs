using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GroupPay.Silo;

/// <summary><c>/health/ready</c>: healthy only while this silo is an active member of the cluster (not while joining or
/// shutting down).</summary>
internal sealed class SiloMembershipHealthCheck(ISiloStatusOracle membership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(membership.CurrentStatus == SiloStatus.Active
            ? HealthCheckResult.Healthy("active")
            : HealthCheckResult.Unhealthy($"silo is {membership.CurrentStatus}"));
}
