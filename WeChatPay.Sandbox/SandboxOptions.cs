using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>The one merchant the sandbox serves, bound from the <c>WeChatPay</c> section (same keys as the gateway).</summary>
internal sealed class SandboxMerchantOptions
{
    public const string SectionName = "WeChatPay";

    [Required(ErrorMessage = "WeChatPay:AppId is required (env WeChatPay__AppId).")]
    [RegularExpression("^wx[0-9A-Za-z]{16}$", ErrorMessage = "WeChatPay:AppId must look like wx + 16 characters (env WeChatPay__AppId).")]
    public string AppId { get; set; } = "";

    [Required(ErrorMessage = "WeChatPay:MchId is required (env WeChatPay__MchId).")]
    [RegularExpression("^[0-9]{1,32}$", ErrorMessage = "WeChatPay:MchId must be digits (env WeChatPay__MchId).")]
    public string MchId { get; set; } = "";

    [Required(ErrorMessage = "WeChatPay:ApiKey is required (env WeChatPay__ApiKey).")]
    [StringLength(32, MinimumLength = 32, ErrorMessage = "WeChatPay:ApiKey must be exactly 32 characters (env WeChatPay__ApiKey).")]
    public string ApiKey { get; set; } = "";
}

/// <summary>The official account's OAuth secret, bound from the <c>WeChat</c> section.</summary>
internal sealed class SandboxWeChatOptions
{
    public const string SectionName = "WeChat";

    [Required(ErrorMessage = "WeChat:AppSecret is required (env WeChat__AppSecret).")]
    [MinLength(16, ErrorMessage = "WeChat:AppSecret must be at least 16 characters (env WeChat__AppSecret).")]
    public string AppSecret { get; set; } = "";
}

/// <summary>The sandbox's own behaviour, bound from the <c>Sandbox</c> section.</summary>
internal sealed class SandboxOptions
{
    public const string SectionName = "Sandbox";

    /// <summary>Multiplies every WeChat delay the sandbox waits for in real time (notify retries, refund settlement).</summary>
    public double TimeScale { get; set; } = 1;

    /// <summary>How long one notify delivery may take before it counts as failed (WeChat: 5 s). Not scaled.</summary>
    public TimeSpan NotifyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a refund stays PROCESSING before it succeeds (scaled by <see cref="TimeScale"/>).</summary>
    public TimeSpan RefundSettleDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>closeorder refuses younger orders (WeChat: 5 minutes).</summary>
    public TimeSpan CloseMinAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a prepay_id can be paid (WeChat: 2 hours).</summary>
    public TimeSpan PrepayLifetime { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Where refund notifies go when the refund request has no notify_url (the merchant-platform setting).</summary>
    public string? RefundNotifyUrl { get; set; }

    /// <summary>WeChat's fee rate shown on bills (手续费 = round half up of the amount × this); a multiple of 0.0001.</summary>
    public decimal FeeRate { get; set; } = 0.006m;

    /// <summary>The China time of day at which yesterday's bill is published (WeChat: from 09:00).</summary>
    public TimeSpan BillReadyAfter { get; set; } = TimeSpan.FromHours(9);

    /// <summary><see cref="FeeRate"/> in parts per million.</summary>
    public long FeeRatePpm => (long)(FeeRate * 1_000_000m);

    /// <summary>The openids offered on the OAuth page.</summary>
    public IList<string> TestUsers { get; } = [];

    /// <summary>The users offered when <see cref="TestUsers"/> is not configured.</summary>
    public static IReadOnlyList<string> DefaultTestUsers { get; } = ["o-sandbox-alice", "o-sandbox-bob", "o-sandbox-carol"];

    public IReadOnlyList<string> EffectiveTestUsers => TestUsers.Count > 0 ? [.. TestUsers] : DefaultTestUsers;

    /// <summary>A WeChat delay as the sandbox waits for it in real time.</summary>
    public TimeSpan Scale(TimeSpan delay) => delay * TimeScale;
}

/// <summary>The <see cref="SandboxOptions"/> rules DataAnnotations cannot say.</summary>
internal sealed class SandboxOptionsValidator : IValidateOptions<SandboxOptions>
{
    public ValidateOptionsResult Validate(string? name, SandboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!(options.TimeScale > 0) || double.IsInfinity(options.TimeScale))
        {
            failures.Add($"Sandbox:TimeScale must be a number greater than 0, not {options.TimeScale}.");
        }
        RequirePositive(failures, "NotifyTimeout", options.NotifyTimeout);
        RequireNotNegative(failures, "RefundSettleDelay", options.RefundSettleDelay);
        RequireNotNegative(failures, "CloseMinAge", options.CloseMinAge);
        RequirePositive(failures, "PrepayLifetime", options.PrepayLifetime);
        if (options.FeeRate is < 0 or >= 1 || options.FeeRate * 10_000m % 1 != 0)
        {
            failures.Add($"Sandbox:FeeRate must be from 0 up to 1 in steps of 0.0001 (0.006 = 0.60%), not {options.FeeRate}.");
        }
        if (options.BillReadyAfter < TimeSpan.Zero || options.BillReadyAfter >= TimeSpan.FromDays(1))
        {
            failures.Add($"Sandbox:BillReadyAfter must be a time of day (00:00:00 to 23:59:59), not {options.BillReadyAfter}.");
        }
        if (options.RefundNotifyUrl is { Length: > 0 } url && !MerchantRules.IsNotifyUrl(url))
        {
            failures.Add($"Sandbox:RefundNotifyUrl must be an absolute http(s) URL without a query, not '{url}'.");
        }
        foreach (var user in options.TestUsers)
        {
            if (!OAuthRules.IsOpenid(user))
            {
                failures.Add($"Sandbox:TestUsers entry '{user}' is not a valid openid ([0-9A-Za-z_-], 1..128).");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void RequirePositive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"Sandbox:{key} must be positive, not {value}.");
        }
    }

    private static void RequireNotNegative(List<string> failures, string key, TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            failures.Add($"Sandbox:{key} must not be negative, not {value}.");
        }
    }
}
