using System.ComponentModel.DataAnnotations;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay;

/// <summary>The merchant's WeChat Pay settings, bound from the <c>WeChatPay</c> section (docs/api.md §2).</summary>
public sealed class WeChatPayOptions
{
    public const string SectionName = "WeChatPay";
    public const string DefaultBaseUrl = "https://api.mch.weixin.qq.com";

    [Required(ErrorMessage = "WeChatPay:AppId is required (env WeChatPay__AppId).")]
    public string AppId { get; set; } = "";

    [Required(ErrorMessage = "WeChatPay:MchId is required (env WeChatPay__MchId).")]
    public string MchId { get; set; } = "";

    /// <summary>The 32-character APIv2 key.</summary>
    [Required(ErrorMessage = "WeChatPay:ApiKey is required (env WeChatPay__ApiKey).")]
    [StringLength(32, MinimumLength = 32, ErrorMessage = "WeChatPay:ApiKey must be exactly 32 characters.")]
    public string ApiKey { get; set; } = "";

    /// <summary><c>MD5</c> or <c>HMAC-SHA256</c>: used for requests and expected on notifies.</summary>
    public string SignType { get; set; } = WeChatPaySignTypes.Md5Name;

    public string BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>Whether <paramref name="baseUrl"/> is WeChat's own (a host under <c>weixin.qq.com</c>) rather than a
    /// sandbox's.</summary>
    public static bool IsWeChatHost(string? baseUrl) =>
        Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri)
        && (uri.Host.Equals("weixin.qq.com", StringComparison.OrdinalIgnoreCase) || uri.Host.EndsWith(".weixin.qq.com", StringComparison.OrdinalIgnoreCase));

    [Required(ErrorMessage = "WeChatPay:NotifyUrl is required (env WeChatPay__NotifyUrl).")]
    public string NotifyUrl { get; set; } = "";

    [Required(ErrorMessage = "WeChatPay:RefundNotifyUrl is required (env WeChatPay__RefundNotifyUrl).")]
    public string RefundNotifyUrl { get; set; } = "";

    /// <summary>PKCS#12 client certificate for <c>/secapi/pay/refund</c>; required against the real host.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>Time allowed for one HTTP call to WeChat Pay.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many times a call is sent at most when WeChat says a retry is safe (1 = no retry).</summary>
    [Range(1, 5, ErrorMessage = "WeChatPay:MaxAttempts must be between 1 and 5.")]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Pause before the second attempt; doubled for each further one.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The parsed <see cref="SignType"/>.</summary>
    public WeChatPaySignType GetSignType() =>
        WeChatPaySignTypes.TryParse(SignType, out var value)
            ? value
            : throw new InvalidOperationException($"WeChatPay:SignType '{SignType}' is not MD5 or HMAC-SHA256.");
}

/// <summary>The rules DataAnnotations cannot say: absolute URLs, sign type names, the certificate.</summary>
public sealed class WeChatPayOptionsValidator : IValidateOptions<WeChatPayOptions>
{
    public ValidateOptionsResult Validate(string? name, WeChatPayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!WeChatPaySignTypes.TryParse(options.SignType, out _))
        {
            failures.Add($"WeChatPay:SignType must be MD5 or HMAC-SHA256, not '{options.SignType}'.");
        }
        RequireAbsoluteHttpUrl(failures, "BaseUrl", options.BaseUrl);
        RequireAbsoluteHttpUrl(failures, "NotifyUrl", options.NotifyUrl);
        RequireAbsoluteHttpUrl(failures, "RefundNotifyUrl", options.RefundNotifyUrl);
        if (options.Timeout <= TimeSpan.Zero)
        {
            failures.Add("WeChatPay:Timeout must be positive.");
        }
        if (options.RetryDelay < TimeSpan.Zero)
        {
            failures.Add("WeChatPay:RetryDelay must not be negative.");
        }
        if (options.CertificatePath is { Length: > 0 } path && !File.Exists(path))
        {
            failures.Add($"WeChatPay:CertificatePath '{path}' does not exist.");
        }
        if (string.IsNullOrEmpty(options.CertificatePath)
            && Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var baseUri)
            && baseUri.Host.EndsWith("mch.weixin.qq.com", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add("WeChatPay:CertificatePath is required against the real WeChat Pay host (refunds need the client certificate).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void RequireAbsoluteHttpUrl(List<string> failures, string key, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return; // [Required] reports it where the key is required.
        }
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add($"WeChatPay:{key} must be an absolute http(s) URL, not '{value}'.");
        }
        else if (key.EndsWith("NotifyUrl", StringComparison.Ordinal) && uri.Query.Length > 0)
        {
            failures.Add($"WeChatPay:{key} must not have a query string (WeChat drops it).");
        }
    }
}
