using System.ComponentModel.DataAnnotations;

namespace GroupPay.Gateway;

/// <summary>The gateway's own settings (section <c>Gateway</c>, docs/api.md §2).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Base of share links and of the OAuth redirect URI; the request's own base when unset.</summary>
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
