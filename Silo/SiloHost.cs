using System.Net;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using GroupPay.ServiceDefaults;
using OpenTelemetry.Metrics;
using Orleans.Configuration;

namespace GroupPay.Silo;

/// <summary>The silo process: Orleans with Redis clustering, storage and reminders, and the grains' services.</summary>
public static partial class SiloHost
{
    /// <summary>The line logged once the silo is active and its gateway accepts clients.</summary>
    public const string StartedMessage = "GroupPay silo started";

    private static readonly Dictionary<string, string?> DefaultSettings = new()
    {
        // Polly logs every grain placement at Information; Garnet its whole configuration.
        ["Logging:LogLevel:Polly"] = "Warning",
        // Every option of every Orleans component at each start.
        ["Logging:LogLevel:Orleans.Runtime.SiloOptionsLogger"] = "Warning",
        ["Logging:LogLevel:Garnet"] = "Warning",
        // "Received an external ILoggerFactory object…" on every start.
        ["Logging:LogLevel:Garnet.ArgParser"] = "Error",
        // Four lines per WeChat Pay call (start, end, headers); failures are logged by the client and the grains.
        ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
    };

    /// <summary>Builds the host from <paramref name="args"/>, environment variables and appsettings.</summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">a setting is invalid (each failure names its key).</exception>
    public static IHost Create(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        // Defaults under every other source, so appsettings and Logging__LogLevel__* still override them.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = DefaultSettings });
        var settings = SiloSettings.Read(builder.Configuration, builder.Environment);

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout);

        // Registered before the silo so that it starts first and stops last.
        builder.Services.AddSingleton(settings.Store);
        builder.Services.AddHostedService<RedisStoreHostedService>();
        if (settings.HealthPort is { } healthPort)
        {
            builder.Services.AddHostedService(services => new SiloHealthEndpoint(
                new IPEndPoint(settings.AdvertisedIp, healthPort), services.GetRequiredService<ISiloStatusOracle>(), services.GetService<MeterProvider>()));
        }

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
        });
        // After the silo: hosted services that call grains (the stats flusher) start once it runs and stop,
        // flushing a last time, before it stops.
        builder.Services.AddGroupPayGrainServices();

        var host = builder.Build();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("GroupPay.Silo");
        lifetime.ApplicationStarted.Register(() => LogStarted(logger, settings.SiloPort, settings.GatewayPort, settings.ClusterId, settings.ServiceId));
        return host;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = StartedMessage + ": silo port {SiloPort}, gateway port {GatewayPort}, cluster {ClusterId}, service {ServiceId}")]
    private static partial void LogStarted(ILogger logger, int siloPort, int gatewayPort, string clusterId, string serviceId);
}
