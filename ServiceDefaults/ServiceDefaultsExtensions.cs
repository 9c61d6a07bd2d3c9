using System.Text.RegularExpressions;
using GroupPay.WeChatPay;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace GroupPay.ServiceDefaults;

/// <summary>
/// What every GroupPay host shares (the shape of eShop's <c>ServiceDefaults</c>): OpenTelemetry traces, metrics and logs
/// (exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set), a Prometheus scrape endpoint, the liveness
/// check, and the one-line refusal when the configuration is invalid.
/// </summary>
public static partial class ServiceDefaultsExtensions
{
    /// <summary>The application's meter: orders, payments, outbox, operator queue, gateway.</summary>
    public const string MeterName = "GroupPay";

    /// <summary>The scrape path of <see cref="UsePrometheusMetrics"/>.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The Orleans and WeChat Pay sources and meters, plus the application's.</summary>
    public static readonly IReadOnlyList<string> ActivitySources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", WeChatPayTelemetry.ActivitySourceName];

    public static readonly IReadOnlyList<string> Meters = ["Microsoft.Orleans", MeterName, WeChatPayTelemetry.MeterName];

    /// <summary>
    /// Telemetry and the liveness check for <paramref name="serviceName"/> (the <c>service.name</c>, unless
    /// <c>OTEL_SERVICE_NAME</c> names another). With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, traces, metrics and logs go
    /// there; with <c>OTEL_METRICS_EXPORTER</c> naming <c>prometheus</c>, metrics are kept for the scrape endpoint
    /// (<see cref="UsePrometheusMetrics"/>). With neither, nothing is collected: an activity per grain call, and Orleans'
    /// own instruments, with no one to read them only cost (a few percent of the notify path). A host adds its own
    /// instrumentation with <c>ConfigureOpenTelemetryTracerProvider</c> / <c>ConfigureOpenTelemetryMeterProvider</c>.
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder, string serviceName)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), tags: [LiveTag]);
        var otlp = IsTelemetryExported(builder.Configuration);
        var prometheus = IsPrometheusEnabled(builder.Configuration);
        if (!otlp && !prometheus)
        {
            return builder;
        }
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? serviceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter([.. Meters]);
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (otlp)
        {
            builder.Logging.AddOpenTelemetry(logging =>
            {
                logging.IncludeFormattedMessage = true;
                logging.IncludeScopes = true;
            });
            telemetry.WithTracing(tracing => tracing.AddSource([.. ActivitySources])).UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>True when <c>OTEL_METRICS_EXPORTER</c> (a comma-separated list) names <c>prometheus</c>.</summary>
    public static bool IsPrometheusEnabled(IConfiguration configuration) =>
        (configuration?["OTEL_METRICS_EXPORTER"] ?? "").Split(',', StringSplitOptions.TrimEntries)
            .Contains("prometheus", StringComparer.OrdinalIgnoreCase);

    /// <summary>The tag of the checks <c>/health/live</c> runs (the process answers); readiness checks are the host's.</summary>
    public const string LiveTag = "live";

    /// <summary>The tag of the checks <c>/health/ready</c> runs.</summary>
    public const string ReadyTag = "ready";

    /// <summary><c>/health/live</c> and <c>/health/ready</c>.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapHealthChecks("/health/live", new() { Predicate = check => check.Tags.Contains(LiveTag) });
        app.MapHealthChecks("/health/ready", new() { Predicate = check => check.Tags.Contains(ReadyTag) });
        return app;
    }

    /// <summary>The Prometheus scrape endpoint (<see cref="MetricsPath"/>) for requests that arrived on
    /// <paramref name="port"/> only (the connection's local port, not the Host header a client chooses): a metrics port
    /// beside the public one, never the public address.</summary>
    public static IApplicationBuilder UsePrometheusMetrics(this IApplicationBuilder app, int port)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseOpenTelemetryPrometheusScrapingEndpoint(
            context => context.Connection.LocalPort == port && context.Request.Path == MetricsPath);
    }

    /// <summary>True when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> names a collector.</summary>
    public static bool IsTelemetryExported(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration?["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>
    /// Starts the host <paramref name="create"/> builds and runs it until it stops: 0. When a setting is invalid, one
    /// line per bad key on stderr (<c>GroupPay {service} refuses to start: …</c>, each naming its key) and 1.
    /// </summary>
    public static async Task<int> RunOrRefuseAsync(string service, Func<IHost> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        IHost host;
        try
        {
            host = create();
            await host.StartAsync();
        }
        catch (Exception ex) when (ConfigurationFailures(ex) is { Count: > 0 } failures)
        {
            foreach (var failure in failures)
            {
                await Console.Error.WriteLineAsync($"GroupPay {service} refuses to start: {failure}");
            }
            return 1;
        }
        await host.WaitForShutdownAsync();
        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
        return 0;
    }

    /// <summary>The failures an invalid configuration raised, one per key; empty for any other exception.</summary>
    public static List<string> ConfigurationFailures(Exception exception) => exception switch
    {
        OptionsValidationException validation => [.. validation.Failures.Select(Unwrap)],
        AggregateException aggregate => [.. aggregate.InnerExceptions.SelectMany(ConfigurationFailures)],
        _ => [],
    };

    // DataAnnotations wraps the message that names the key: "… members: 'ApiKey' with the error: '<message>'."
    private static string Unwrap(string failure) =>
        WrappedMessage().Match(failure) is { Success: true } match ? match.Groups["message"].Value : failure;

    [GeneratedRegex("with the error: '(?<message>.*)'\\.$")]
    private static partial Regex WrappedMessage();
}
