using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>
/// Builds the sandbox: a stand-in for WeChat Pay v2 and WeChat OAuth speaking the real wire format, plus its
/// own control API under <c>/sandbox</c>. <c>Program</c> runs it; tests start it in-process.
/// </summary>
[SuppressMessage("Maintainability", "CA1515", Justification = "Tests start the sandbox in-process through this type.")]
public static class SandboxApp
{
    /// <summary>
    /// Builds the app from <paramref name="args"/> (as <c>WebApplication.CreateBuilder</c> reads them);
    /// <paramref name="configure"/> runs after the sandbox's own registrations, so it can add configuration or
    /// replace services. Options are validated when the app starts: a missing or invalid key stops it.
    /// </summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        AddSandbox(builder.Services);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapMerchantApi();
        app.MapCashier();
        app.MapOAuth();
        app.MapJsSdk();
        app.MapSandboxControl();
        return app;
    }

    private static void AddSandbox(IServiceCollection services)
    {
        services.AddOptions<SandboxMerchantOptions>().BindConfiguration(SandboxMerchantOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SandboxWeChatOptions>().BindConfiguration(SandboxWeChatOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SandboxOptions>().BindConfiguration(SandboxOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SandboxOptions>, SandboxOptionsValidator>();

        services.ConfigureHttpJsonOptions(json =>
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
        services.AddProblemDetails();

        services.AddSingleton<SandboxClock>();
        services.AddSingleton<TimeProvider>(sp => sp.GetRequiredService<SandboxClock>());
        services.AddSingleton<SandboxStore>();
        services.AddSingleton<FaultInjection>();
        services.AddSingleton<SandboxBackgroundWork>();
        services.AddHostedService(sp => sp.GetRequiredService<SandboxBackgroundWork>());
        services.AddSingleton<NotifyDispatcher>();
        services.AddSingleton<RefundSettlement>();
        services.AddSingleton<PaymentDesk>();
        services.AddSingleton<PayApi>();
        services.AddSingleton<RefundApi>();
        services.AddSingleton<BillApi>();
        services.AddSingleton<MerchantApiProcessor>();
        services.AddSingleton<Cashier>();
        services.AddSingleton<OAuthCodes>();
        services.AddSingleton<OfficialAccountCredentials>();

        services.AddHttpClient(NotifyDispatcher.HttpClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            })
            .RemoveAllLoggers();
    }
}
