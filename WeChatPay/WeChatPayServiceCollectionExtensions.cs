using System.Security.Cryptography.X509Certificates;
using GroupPay.WeChatPay.Client;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.OfficialAccount;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay;

public static class WeChatPayServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IWeChatPayClient"/> and <see cref="WeChatPayNotifyParser"/> with options bound from
    /// <paramref name="sectionName"/> and validated at start (a bad value stops the host, naming the key).
    /// </summary>
    public static IServiceCollection AddWeChatPay(this IServiceCollection services, string sectionName = WeChatPayOptions.SectionName)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<WeChatPayOptions>()
            .BindConfiguration(sectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WeChatPayOptions>, WeChatPayOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.AddHttpClient(WeChatPayClient.HttpClientName);
        services.AddHttpClient(WeChatPayClient.CertificateHttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var options = sp.GetRequiredService<IOptionsMonitor<WeChatPayOptions>>().CurrentValue;
                var handler = new SocketsHttpHandler();
                if (!string.IsNullOrEmpty(options.CertificatePath))
                {
                    handler.SslOptions.ClientCertificates =
                    [
                        X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword),
                    ];
                }
                return handler;
            });

        services.TryAddSingleton<IWeChatPayClient, WeChatPayClient>();
        services.TryAddSingleton<WeChatPayNotifyParser>();
        return services;
    }

    /// <summary>
    /// Registers <see cref="IOfficialAccountClient"/> (the access token and the JS-SDK ticket) with
    /// <see cref="OfficialAccountOptions"/> bound from <c>WeChat</c>; it needs <see cref="AddWeChatPay"/> for the app id.
    /// </summary>
    public static IServiceCollection AddWeChatOfficialAccount(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<OfficialAccountOptions>()
            .BindConfiguration(OfficialAccountOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddHttpClient(OfficialAccountClient.HttpClientName);
        services.TryAddSingleton<IOfficialAccountClient, OfficialAccountClient>();
        return services;
    }
}
