using GroupPay.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace GroupPay.Silo.Tests;

/// <summary>The silo ships failure detection chosen for a payment front door (docs/availability.md), and a deployment
/// can still override each value.</summary>
public sealed class FailureDetectionSettingsTests
{
    [Fact]
    public void TheShippedSettingsAreTheOnesTheDocsGive()
    {
        using var host = SiloHost.Create(Arguments());

        var membership = host.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;

        Assert.Equal(
            (TimeSpan.FromSeconds(1), 2, TimeSpan.FromSeconds(4), 2, TimeSpan.FromSeconds(5), 2, TimeSpan.FromSeconds(10), true),
            (membership.ProbeTimeout, membership.NumMissedProbesLimit, membership.MaxProbeTimeout, membership.NumVotesForDeathDeclaration,
                membership.IAmAliveTablePublishTimeout, membership.NumMissedTableIAmAliveLimit, membership.TableRefreshTimeout,
                membership.EnableConnectionLivenessCheck));
        // Stale rows (of silos dead in a full-cluster crash) are not waited for after 5 s × 2 = 10 s.
        Assert.Equal(TimeSpan.FromSeconds(10), membership.IAmAliveTablePublishTimeout * membership.NumMissedTableIAmAliveLimit);
    }

    [Fact]
    public void ADeploymentOverridesThem()
    {
        using var host = SiloHost.Create([.. Arguments(), "--Orleans:Membership:ProbeTimeout=00:00:03", "--Orleans:Membership:NumMissedProbesLimit=3"]);

        var membership = host.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;

        Assert.Equal((TimeSpan.FromSeconds(3), 3), (membership.ProbeTimeout, membership.NumMissedProbesLimit));
    }

    private static string[] Arguments() =>
    [
        "--environment", Environments.Production,
        "--ConnectionStrings:Redis=127.0.0.1:1",
        .. SiloProcessOptions.DemoWeChatPay.Select(p => $"--{p.Key.Replace("__", ":", StringComparison.Ordinal)}={p.Value}"),
    ];
}
