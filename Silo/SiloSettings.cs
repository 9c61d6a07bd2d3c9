using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using GroupPay.WeChatPay;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace GroupPay.Silo;

/// <summary>Where the silo keeps membership, state and reminders, and whether it may host that store itself.</summary>
/// <param name="ConnectionString">What the Orleans providers connect to.</param>
/// <param name="Embedded">Start Garnet in-process at <paramref name="EmbeddedEndPoint"/> when nothing answers there.</param>
/// <param name="EmbeddedEndPoint">The loopback endpoint the embedded store listens on (null unless embedded).</param>
/// <param name="DataDir">Where the embedded store keeps its append-only file and checkpoints.</param>
internal sealed record RedisStoreSettings(string ConnectionString, bool Embedded, IPEndPoint? EmbeddedEndPoint, string DataDir);

/// <summary>The silo's own configuration (docs/api.md §2), read once at start; every bad key is reported at once.
/// <c>KubernetesHosting</c>: call <c>UseKubernetesHosting()</c> (<c>Orleans:KubernetesHosting=true</c>, only in a pod).</summary>
internal sealed partial record SiloSettings(
    RedisStoreSettings Store,
    string ClusterId,
    string ServiceId,
    int SiloPort,
    int GatewayPort,
    IPAddress AdvertisedIp,
    TimeSpan MinimumReminderPeriod,
    TimeSpan ShutdownTimeout,
    int? HealthPort,
    bool KubernetesHosting,
    bool Dashboard = false)
{
    public const string DefaultRedis = "localhost:6379";

    /// <summary>The switch for <c>Microsoft.Orleans.Hosting.Kubernetes</c>: off unless set to <c>true</c>.</summary>
    public const string KubernetesHostingKey = "Orleans:KubernetesHosting";

    /// <summary>What the kubelet sets in every container of every pod (the API server's address): the sign of a pod.</summary>
    public const string KubernetesServiceHostVariable = "KUBERNETES_SERVICE_HOST";

    /// <summary>Lets a Production silo use a WeChat Pay sandbox (<see cref="CheckWeChatPayHost"/>).</summary>
    public const string AllowSandboxKey = "WeChatPay:AllowSandbox";


    /// <summary>Reads and checks the settings.</summary>
    /// <exception cref="OptionsValidationException">one failure per bad key, each naming it.</exception>
    public static SiloSettings Read(IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);
        var failures = new List<string>();

        var clusterId = Text(configuration, "Orleans:ClusterId", "grouppay-dev", failures);
        var serviceId = Text(configuration, "Orleans:ServiceId", "grouppay", failures);
        var siloPort = Port(configuration, "Orleans:SiloPort", 11111, failures);
        var gatewayPort = Port(configuration, "Orleans:GatewayPort", 30000, failures);
        if (siloPort == gatewayPort)
        {
            failures.Add($"Orleans:GatewayPort must differ from Orleans:SiloPort (both {siloPort}).");
        }
        int? healthPort = string.IsNullOrEmpty(configuration["Orleans:HealthPort"]) ? null : Port(configuration, "Orleans:HealthPort", 0, failures);
        if (healthPort is { } health && (health == siloPort || health == gatewayPort))
        {
            failures.Add($"Orleans:HealthPort must differ from Orleans:SiloPort and Orleans:GatewayPort ({health}).");
        }
        var advertisedIp = IPAddress.Loopback;
        if (configuration["Orleans:AdvertisedIp"] is { Length: > 0 } ip && !IPAddress.TryParse(ip, out advertisedIp!))
        {
            failures.Add($"Orleans:AdvertisedIp must be an IP address, not '{ip}'.");
            advertisedIp = IPAddress.Loopback;
        }
        var reminderPeriod = Duration(configuration, "Orleans:MinimumReminderPeriod", TimeSpan.FromMinutes(1), failures);
        var shutdownTimeout = Duration(configuration, "Orleans:ShutdownTimeout", TimeSpan.FromSeconds(30), failures);
        var store = ReadStore(configuration, environment, failures);
        var kubernetes = ReadKubernetesHosting(configuration, clusterId, serviceId, failures);
        CheckWeChatPayHost(configuration, environment, failures);
        var dashboard = false;
        if (configuration["Orleans:Dashboard"] is { Length: > 0 } dashboardText && !bool.TryParse(dashboardText, out dashboard))
        {
            failures.Add($"Orleans:Dashboard must be true or false, not '{dashboardText}'.");
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException("GroupPay.Silo", typeof(SiloSettings), failures);
        }
        return new SiloSettings(store!, clusterId, serviceId, siloPort, gatewayPort, advertisedIp, reminderPeriod, shutdownTimeout,
            healthPort is 0 ? null : healthPort, kubernetes, dashboard);
    }

    /// <summary>
    /// A Production silo pays through WeChat's own host: a <c>WeChatPay:BaseUrl</c> elsewhere (a sandbox) is refused
    /// unless <c>WeChatPay:AllowSandbox</c> is <c>true</c>, said on purpose (the test fixtures, a load test, a demo).
    /// </summary>
    private static void CheckWeChatPayHost(IConfiguration configuration, IHostEnvironment environment, List<string> failures)
    {
        var allowText = configuration[AllowSandboxKey];
        var allowed = false;
        if (!string.IsNullOrEmpty(allowText) && !bool.TryParse(allowText, out allowed))
        {
            failures.Add($"{AllowSandboxKey} must be true or false, not '{allowText}' (env WeChatPay__AllowSandbox).");
            return;
        }
        var baseUrl = configuration["WeChatPay:BaseUrl"] is { Length: > 0 } configured ? configured : WeChatPayOptions.DefaultBaseUrl;
        if (environment.IsProduction() && !allowed && !WeChatPayOptions.IsWeChatHost(baseUrl))
        {
            failures.Add($"WeChatPay:BaseUrl '{baseUrl}' is not WeChat Pay's host, and this silo runs in Production: payments would go to a sandbox. "
                + $"Point it at {WeChatPayOptions.DefaultBaseUrl}, or set {AllowSandboxKey}=true (env WeChatPay__AllowSandbox) if that is meant.");
        }
    }

    /// <summary>
    /// <c>Orleans:KubernetesHosting</c>: <c>true</c> only in a pod (<c>KUBERNETES_SERVICE_HOST</c> set), where the
    /// package labels this pod <c>orleans/serviceId</c> and <c>orleans/clusterId</c> with the cluster's ids and watches
    /// the pods so labelled, so both ids must be valid label values. It would take the ids from
    /// <c>ORLEANS_SERVICE_ID</c>/<c>ORLEANS_CLUSTER_ID</c> instead: those may only repeat <c>Orleans:ServiceId</c>/<c>Orleans:ClusterId</c>,
    /// which the gateways read too.
    /// </summary>
    private static bool ReadKubernetesHosting(IConfiguration configuration, string clusterId, string serviceId, List<string> failures)
    {
        var text = configuration[KubernetesHostingKey];
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }
        if (!bool.TryParse(text, out var enabled))
        {
            failures.Add($"{KubernetesHostingKey} must be true or false, not '{text}'.");
            return false;
        }
        if (!enabled)
        {
            return false;
        }
        if (string.IsNullOrEmpty(configuration[KubernetesServiceHostVariable]))
        {
            failures.Add($"{KubernetesHostingKey} is true, but this process is not in a Kubernetes pod ({KubernetesServiceHostVariable} is not set).");
        }
        foreach (var (key, value, variable) in new[]
        {
            ("Orleans:ClusterId", clusterId, "ORLEANS_CLUSTER_ID"),
            ("Orleans:ServiceId", serviceId, "ORLEANS_SERVICE_ID"),
        })
        {
            if (!LabelValue().IsMatch(value))
            {
                failures.Add($"{key} must be a Kubernetes label value with {KubernetesHostingKey} (at most 63 letters, digits, '-', '_' or '.'), not '{value}'.");
            }
            if (configuration[variable] is { Length: > 0 } other && !string.Equals(other, value, StringComparison.Ordinal))
            {
                failures.Add($"{variable} ('{other}') differs from {key} ('{value}'): set {key.Replace(":", "__", StringComparison.Ordinal)} only.");
            }
        }
        return true;
    }

    private static RedisStoreSettings? ReadStore(IConfiguration configuration, IHostEnvironment environment, List<string> failures)
    {
        var configured = configuration.GetConnectionString("Redis");
        var connectionString = string.IsNullOrWhiteSpace(configured) ? DefaultRedis : configured;
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException ex)
        {
            failures.Add($"ConnectionStrings:Redis is not a valid Redis connection string: {ex.Message}");
            return null;
        }
        if (options.EndPoints.Count == 0)
        {
            failures.Add("ConnectionStrings:Redis names no endpoint (host:port).");
            return null;
        }

        // Embedded only where asked for (Redis:Embedded=true), or by default in Development when no Redis was named.
        bool embedded;
        var embeddedText = configuration["Redis:Embedded"];
        if (string.IsNullOrEmpty(embeddedText))
        {
            embedded = environment.IsDevelopment() && string.IsNullOrWhiteSpace(configured);
        }
        else if (!bool.TryParse(embeddedText, out embedded))
        {
            failures.Add($"Redis:Embedded must be true or false, not '{embeddedText}'.");
            return null;
        }

        var dataDir = configuration["Redis:DataDir"] is { Length: > 0 } dir ? dir : Path.Combine(".data", "garnet");
        dataDir = Path.GetFullPath(dataDir, environment.ContentRootPath);
        if (!embedded)
        {
            return new RedisStoreSettings(connectionString, false, null, dataDir);
        }

        // The embedded store listens on 127.0.0.1 only; "localhost" is pinned to it so that no client tries ::1 first.
        var endPoint = options.EndPoints[0] switch
        {
            DnsEndPoint { Host: var host, Port: var port } when string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) =>
                new IPEndPoint(IPAddress.Loopback, port),
            IPEndPoint { Address: var address, Port: var port } when address.Equals(IPAddress.Loopback) => new IPEndPoint(address, port),
            _ => null,
        };
        if (endPoint is null || options.EndPoints.Count > 1)
        {
            failures.Add($"Redis:Embedded needs ConnectionStrings:Redis to be one endpoint on localhost or 127.0.0.1, not '{options.ToString(includePassword: false)}'.");
            return null;
        }
        options.EndPoints.Clear();
        options.EndPoints.Add(endPoint);
        return new RedisStoreSettings(options.ToString(includePassword: true), true, endPoint, dataDir);
    }

    private static string Text(IConfiguration configuration, string key, string fallback, List<string> failures)
    {
        var value = configuration[key];
        if (value is null)
        {
            return fallback;
        }
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{key} must not be empty.");
        }
        return value;
    }

    private static int Port(IConfiguration configuration, string key, int fallback, List<string> failures)
    {
        var value = configuration[key];
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            failures.Add($"{key} must be a port number (1..65535), not '{value}'.");
            return fallback;
        }
        return port;
    }

    private static TimeSpan Duration(IConfiguration configuration, string key, TimeSpan fallback, List<string> failures)
    {
        var value = configuration[key];
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }
        if (!TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var duration) || duration <= TimeSpan.Zero)
        {
            failures.Add($"{key} must be a positive duration (hh:mm:ss), not '{value}'.");
            return fallback;
        }
        return duration;
    }

    /// <summary>A Kubernetes label value: at most 63 characters, alphanumerics with '-', '_' or '.' inside.</summary>
    [GeneratedRegex("^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex LabelValue();
}
