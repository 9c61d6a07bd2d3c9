using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway;

/// <summary>The gateway's own settings (section <c>Gateway</c>, docs/api.md §2).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Base of share links and of the OAuth redirect URI, and the site's origin for the cross-site check; the
    /// request's own base when unset (required in Production: <see cref="GatewayOptionsValidator"/>).</summary>
    [Url(ErrorMessage = "Gateway:PublicBaseUrl must be an absolute URL (env Gateway__PublicBaseUrl).")]
    public string? PublicBaseUrl { get; set; }

    /// <summary>Shared secret for <c>/admin</c>; the admin endpoints answer 404 while it is unset.</summary>
    [MinLength(16, ErrorMessage = "Gateway:AdminKey must be at least 16 characters (env Gateway__AdminKey).")]
    public string? AdminKey { get; set; }

    /// <summary>How often the gateway sends the funnel counts it gathered (links opened) to the stats grain.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00", ErrorMessage = "Gateway:StatsFlushInterval must be between 50 ms and 1 hour (env Gateway__StatsFlushInterval).")]
    public TimeSpan StatsFlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The port <c>/metrics</c> answers on (with <c>OTEL_METRICS_EXPORTER=prometheus</c>); the gateway must
    /// also listen on it (<c>ASPNETCORE_URLS</c>). Unset: no scrape endpoint.</summary>
    [Range(1, 65535, ErrorMessage = "Gateway:MetricsPort must be a port number (env Gateway__MetricsPort).")]
    public int? MetricsPort { get; set; }

    /// <summary>Whether the session and sign-in cookies are <c>Secure</c> (sent over https only); unset, true except in
    /// Development.</summary>
    public bool? SecureCookies { get; set; }

    internal bool CookiesAreSecure(IHostEnvironment environment) => SecureCookies ?? !environment.IsDevelopment();
}

/// <summary>What depends on the environment: Production needs <see cref="GatewayOptions.PublicBaseUrl"/> (behind a
/// proxy the request's own base may be an internal one, and it is the origin the cross-site check compares with).</summary>
internal sealed class GatewayOptionsValidator(IHostEnvironment environment) : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options) =>
        environment.IsProduction() && string.IsNullOrWhiteSpace(options.PublicBaseUrl)
            ? ValidateOptionsResult.Fail("Gateway:PublicBaseUrl is required in Production (env Gateway__PublicBaseUrl): the site's public https base, such as https://pay.example.com.")
            : ValidateOptionsResult.Success;
}

/// <summary>Caps on concurrent event streams (section <c>Gateway:EventStreams</c>, docs/api.md §6).</summary>
public sealed class GatewayEventStreamOptions
{
    public const string SectionName = "Gateway:EventStreams";

    /// <summary>Streams one signed-in user may have open at once.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "Gateway:EventStreams:PerUser must be at least 1 (env Gateway__EventStreams__PerUser).")]
    public int PerUser { get; set; } = 20;

    /// <summary>Streams one client IP may have open at once.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "Gateway:EventStreams:PerIp must be at least 1 (env Gateway__EventStreams__PerIp).")]
    public int PerIp { get; set; } = 200;
}

/// <summary>Limits of the mutating endpoints (section <c>Gateway:RateLimit</c>): a fixed window per signed-in user
/// and one per client IP; a request must pass both.</summary>
public sealed class GatewayRateLimitOptions
{
    public const string SectionName = "Gateway:RateLimit";

    /// <summary>Requests one signed-in user may make per <see cref="Window"/>.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "Gateway:RateLimit:PerUser must be at least 1 (env Gateway__RateLimit__PerUser).")]
    public int PerUser { get; set; } = 30;

    /// <summary>Requests one client IP may make per <see cref="Window"/> (users behind one NAT share it).</summary>
    [Range(1, int.MaxValue, ErrorMessage = "Gateway:RateLimit:PerIp must be at least 1 (env Gateway__RateLimit__PerIp).")]
    public int PerIp { get; set; } = 300;

    /// <summary>Requests to <c>/admin</c> one client IP may make per <see cref="Window"/>, counted before the key is
    /// checked (a wrong key costs one too).</summary>
    [Range(1, int.MaxValue, ErrorMessage = "Gateway:RateLimit:AdminPerIp must be at least 1 (env Gateway__RateLimit__AdminPerIp).")]
    public int AdminPerIp { get; set; } = 60;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Gateway:RateLimit:Window must be between 1 second and 1 day (env Gateway__RateLimit__Window).")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>How the gateway reaches the cluster (docs/api.md §2: <c>ConnectionStrings:Redis</c>, <c>Orleans:*</c>).</summary>
public sealed class ClusterConnectionOptions
{
    [Required(ErrorMessage = "ConnectionStrings:Redis is required (env ConnectionStrings__Redis).")]
    public string Redis { get; set; } = "localhost:6379";

    [Required(ErrorMessage = "Orleans:ClusterId is required (env Orleans__ClusterId).")]
    public string ClusterId { get; set; } = "grouppay-dev";

    [Required(ErrorMessage = "Orleans:ServiceId is required (env Orleans__ServiceId).")]
    public string ServiceId { get; set; } = "grouppay";
}

/// <summary>How long the gateway waits for the cluster and what it tells callers when it is unavailable (section
/// <c>Gateway:Cluster</c>, docs/availability.md).</summary>
public sealed class GatewayClusterOptions
{
    public const string SectionName = "Gateway:Cluster";

    /// <summary>Orleans' response timeout for every grain call of this gateway (pays, creates, notifies, admin). It bounds
    /// the longest legitimate call, not the short reads (those have <see cref="ReadTimeout"/>, through a
    /// <c>CancellationToken</c>): a pay's grain turn includes WeChat's <c>unifiedorder</c>, which the silo allows
    /// <c>Orders:WeChatCallTimeout</c> (8 s), plus its state writes; so this must exceed that budget with a margin, or a
    /// slow but successful pay is answered 503 (docs/availability.md).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "Gateway:Cluster:ResponseTimeout must be between 100 ms and 5 minutes (env Gateway__Cluster__ResponseTimeout).")]
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(12);

    /// <summary>How long an H5 read (<c>GET</c> of a group, a campaign, the user) waits for its grains before it is
    /// answered 503 <c>unavailable</c>; shorter than <see cref="ResponseTimeout"/>, since nothing is lost by asking again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00", ErrorMessage = "Gateway:Cluster:ReadTimeout must be between 50 ms and 5 minutes (env Gateway__Cluster__ReadTimeout).")]
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The <c>Retry-After</c> of a 503 <c>unavailable</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Gateway:Cluster:RetryAfter must be between 1 second and 10 minutes (env Gateway__Cluster__RetryAfter).")]
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the Orleans client reads the live silos' gateways from the membership table (Orleans'
    /// default is a minute: a frozen silo's gateway would keep receiving calls that long).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Gateway:Cluster:GatewayListRefreshPeriod must be between 1 second and 10 minutes (env Gateway__Cluster__GatewayListRefreshPeriod).")]
    public TimeSpan GatewayListRefreshPeriod { get; set; } = TimeSpan.FromSeconds(5);
}
