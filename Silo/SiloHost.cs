using System.Net;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using GroupPay.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Orleans.Dashboard;
using Orleans.Configuration;

namespace GroupPay.Silo;

/// <summary>The silo process: Orleans with Redis clustering, storage and reminders, and the grains' services; and its
/// admin port (<c>Orleans:HealthPort</c>, on the advertised address only): the probes, <c>/metrics</c> and the Orleans
/// Dashboard. Kestrel starts before the silo and stops after it, so an orchestrator sees every stage.</summary>
public static partial class SiloHost
{
    /// <summary>Where the Orleans Dashboard is on the admin port (<c>Orleans:Dashboard=true</c>).</summary>
    public const string DashboardPath = "/dashboard";

    /// <summary>The line logged once the silo is active and its gateway accepts clients.</summary>
    public const string StartedMessage = "GroupPay silo started";

    private static readonly Dictionary<string, string?> DefaultSettings = new()
    {
        // Polly logs every grain placement at Information; Garnet its whole configuration.
        ["Logging:LogLevel:Polly"] = "Warning",
        // Every option of every Orleans component at each start.
        ["Logging:LogLevel:Orleans.Runtime.SiloOptionsLogger"] = "Warning",
        ["Logging:LogLevel:Garnet"] = "Warning",
        // Kestrel's and the admin endpoints' request lines.
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        // "Received an external ILoggerFactory object…" on every start.
        ["Logging:LogLevel:Garnet.ArgParser"] = "Error",
        // Four lines per WeChat Pay call (start, end, headers); failures are logged by the client and the grains.
        ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
    };

    /// <summary>Builds the host from <paramref name="args"/>, environment variables and appsettings.</summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">a setting is invalid (each failure names its key).</exception>
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        // Defaults under every other source, so appsettings and Logging__LogLevel__* still override them.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = DefaultSettings });
        var settings = SiloSettings.Read(builder.Configuration, builder.Environment);

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout);

        // Registered before the silo so that it starts first and stops last.
        builder.Services.AddSingleton(settings.Store);
        builder.Services.AddHostedService<RedisStoreHostedService>();
        // The admin port: a fixed one for an orchestrator's probes, else any free one (the silo still has one to answer on).
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(new IPEndPoint(settings.AdvertisedIp, settings.HealthPort ?? 0)));
        builder.Services.AddHealthChecks().AddCheck<SiloMembershipHealthCheck>("membership", tags: [ServiceDefaultsExtensions.ReadyTag]);
        // Telemetry (OTLP, Prometheus on the health port), the refusal line: ServiceDefaults.
        builder.AddServiceDefaults(GroupPaySiloBuilder.ServiceName);

        var redis = settings.Store.ConnectionString;
        builder.UseOrleans(silo =>
        {
            if (settings.KubernetesHosting)
            {
                // Pod labels orleans/serviceId and orleans/clusterId, a watch on those pods (a deleted pod's silo is
                // declared dead at once), the silo named after POD_NAME, listening on all the pod's addresses. Before
                // the ids below, so Orleans:ClusterId/ServiceId are what count (SiloSettings refuses other ORLEANS_* ids).
                silo.UseKubernetesHosting(options => options.Bind(builder.Configuration.GetSection("Orleans:Kubernetes")));
            }
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            silo.ConfigureEndpoints(settings.AdvertisedIp, settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: false);
            silo.UseGroupPayRedisClustering(redis);
            silo.UseGroupPayRedis(redis);
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = settings.MinimumReminderPeriod);
            // Failure detection can be tuned per deployment (and made quick in tests): Orleans:Membership:ProbeTimeout, …
            silo.Services.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Orleans:Membership"));
            if (ServiceDefaultsExtensions.IsTelemetryExported(builder.Configuration))
            {
                silo.AddActivityPropagation();
            }
            if (settings.Dashboard)
            {
                // Profiles every grain call (a filter on the call path): on where someone looks at it.
                silo.AddDashboard();
            }
        });
        // After the silo: hosted services that call grains (the stats flusher) start once it runs and stop,
        // flushing a last time, before it stops.
        builder.Services.AddGroupPayGrainServices();

        var host = builder.Build();
        host.MapHealthEndpoints();
        if (ServiceDefaultsExtensions.IsPrometheusEnabled(builder.Configuration))
        {
            host.MapPrometheusScrapingEndpoint(ServiceDefaultsExtensions.MetricsPath);
        }
        if (settings.Dashboard)
        {
            host.MapOrleansDashboard(DashboardPath);
        }
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("GroupPay.Silo");
        lifetime.ApplicationStarted.Register(() => LogStarted(logger, settings.SiloPort, settings.GatewayPort, settings.ClusterId, settings.ServiceId));
        return host;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = StartedMessage + ": silo port {SiloPort}, gateway port {GatewayPort}, cluster {ClusterId}, service {ServiceId}")]
    private static partial void LogStarted(ILogger logger, int siloPort, int gatewayPort, string clusterId, string serviceId);
}
