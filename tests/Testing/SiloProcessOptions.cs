namespace GroupPay.Testing;

/// <summary>How to start one silo process. Ports default to fresh free ones; the WeChat Pay keys to the sandbox's demo
/// merchant, sandbox allowed (a silo validates them at start).</summary>
public sealed record SiloProcessOptions
{
    public required string RedisConnectionString { get; init; }

    public required ClusterIdentity Cluster { get; init; }

    public int SiloPort { get; init; } = FreePort.Get();

    public int GatewayPort { get; init; } = FreePort.Get();

    /// <summary><c>DOTNET_ENVIRONMENT</c> of the silo.</summary>
    public string EnvironmentName { get; init; } = "Production";

    /// <summary>More variables (<c>Section__Key</c>), applied last; a null value removes the variable.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>How long <see cref="SiloProcess.StartAsync"/> waits for the silo to say it started.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>The demo merchant of the WeChat Pay sandbox (its URLs need not answer for a silo to start).</summary>
    public static IReadOnlyDictionary<string, string> DemoWeChatPay { get; } = new Dictionary<string, string>
    {
        ["WeChatPay__AppId"] = "wx2421b1c4370ec43b",
        ["WeChatPay__MchId"] = "10000100",
        ["WeChatPay__ApiKey"] = "192006250b4c09247ec02edce69f6a2d",
        ["WeChatPay__SignType"] = "MD5",
        ["WeChatPay__BaseUrl"] = "http://127.0.0.1:5080",
        ["WeChatPay__NotifyUrl"] = "http://127.0.0.1:5000/wechatpay/notify",
        ["WeChatPay__RefundNotifyUrl"] = "http://127.0.0.1:5000/wechatpay/refund-notify",
        // The silos run as Production against the sandbox: allowed only when said so (docs/api.md §2).
        ["WeChatPay__AllowSandbox"] = "true",
    };
}
