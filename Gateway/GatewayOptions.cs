using System.ComponentModel.DataAnnotations;

namespace GroupPay.Gateway;

/// <summary>The gateway's own settings (section <c>Gateway</c>, api.md).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Base of share links and of the OAuth redirect URI; the request's own base when unset.</summary>
    [Url(ErrorMessage = "Gateway:PublicBaseUrl must be an absolute URL (env Gateway__PublicBaseUrl).")]
    public string? PublicBaseUrl { get; set; }

    /// <summary>Shared secret for <c>/admin</c>; the admin endpoints answer 404 while it is unset.</summary>
    [MinLength(16, ErrorMessage = "Gateway:AdminKey must be at least 16 characters (env Gateway__AdminKey).")]
    public string? AdminKey { get; set; }
}

/// <summary>How the gateway reaches the cluster (api.md: <c>ConnectionStrings:Redis</c>, <c>Orleans:*</c>).</summary>
public sealed class ClusterConnectionOptions
{
    [Required(ErrorMessage = "ConnectionStrings:Redis is required (env ConnectionStrings__Redis).")]
    public string Redis { get; set; } = "localhost:6379";

    [Required(ErrorMessage = "Orleans:ClusterId is required (env Orleans__ClusterId).")]
    public string ClusterId { get; set; } = "grouppay-dev";

    [Required(ErrorMessage = "Orleans:ServiceId is required (env Orleans__ServiceId).")]
    public string ServiceId { get; set; } = "grouppay";
}
