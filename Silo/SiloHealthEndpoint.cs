using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using GroupPay.ServiceDefaults;
using OpenTelemetry.Metrics;

namespace GroupPay.Silo;

/// <summary>
/// The silo's probes over HTTP on <c>Orleans:HealthPort</c> (when set): <c>/health/live</c> answers while the process
/// runs; <c>/health/ready</c> only while this silo is an active member of the cluster (not while joining or shutting
/// down). Started before the silo and stopped after it, so an orchestrator sees every stage. With
/// <c>OTEL_METRICS_EXPORTER=prometheus</c>, <c>/metrics</c> too: the silo's meters for a scraper, on this internal port only.
/// </summary>
internal sealed class SiloHealthEndpoint(IPEndPoint endpoint, ISiloStatusOracle membership, MeterProvider? meters) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(endpoint));
        builder.Logging.ClearProviders();
        builder.Services.AddHealthChecks()
            .AddCheck("process", () => HealthCheckResult.Healthy(), tags: ["live"])
            .AddCheck("membership", () => membership.CurrentStatus == SiloStatus.Active
                ? HealthCheckResult.Healthy("active")
                : HealthCheckResult.Unhealthy($"silo is {membership.CurrentStatus}"), tags: ["ready"]);
        _app = builder.Build();
        _app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = check => check.Tags.Contains("live") });
        _app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        if (meters is not null)
        {
            _app.MapPrometheusScrapingEndpoint(ServiceDefaultsExtensions.MetricsPath, meters, configureBranchedPipeline: null, optionsName: null);
        }
        await _app.StartAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
