using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using GroupPay.WeChatPay.Client;

namespace GroupPay.WeChatPay.Tests;

public sealed class ClientCertificateTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("grouppay-cert-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string WritePkcs12(string password)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=10000100, O=GroupPay test merchant", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var path = Path.Combine(_directory, "apiclient_cert.p12");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    private static SocketsHttpHandler PrimaryHandler(IServiceProvider services, string name)
    {
        HttpMessageHandler? handler = services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(name);
        while (handler is DelegatingHandler delegating)
        {
            handler = delegating.InnerHandler;
        }
        return Assert.IsType<SocketsHttpHandler>(handler);
    }

    private static ServiceProvider Services(Dictionary<string, string?> extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["WeChatPay:AppId"] = "wx2421b1c4370ec43b",
            ["WeChatPay:MchId"] = "10000100",
            ["WeChatPay:ApiKey"] = "192006250b4c09247ec02edce69f6a2d",
            ["WeChatPay:BaseUrl"] = "http://127.0.0.1:1",
            ["WeChatPay:NotifyUrl"] = "https://shop.example/n",
            ["WeChatPay:RefundNotifyUrl"] = "https://shop.example/r",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }
        return new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddWeChatPay()
            .BuildServiceProvider();
    }

    [Fact]
    public void PresentsTheConfiguredPkcs12CertificateOnlyOnTheRefundClient()
    {
        var path = WritePkcs12("s3cret");
        using var services = Services(new() { ["WeChatPay:CertificatePath"] = path, ["WeChatPay:CertificatePassword"] = "s3cret" });

        var refundHandler = PrimaryHandler(services, WeChatPayClient.CertificateHttpClientName);
        var certificate = Assert.Single(refundHandler.SslOptions.ClientCertificates!.Cast<X509Certificate2>());
        Assert.Equal("CN=10000100, O=GroupPay test merchant", certificate.Subject);
        Assert.True(certificate.HasPrivateKey);

        Assert.Empty(PrimaryHandler(services, WeChatPayClient.HttpClientName).SslOptions.ClientCertificates ?? []);
    }

    [Fact]
    public void FailsLoudlyOnAWrongCertificatePassword()
    {
        var path = WritePkcs12("s3cret");
        using var services = Services(new() { ["WeChatPay:CertificatePath"] = path, ["WeChatPay:CertificatePassword"] = "wrong" });

        Assert.ThrowsAny<CryptographicException>(() => PrimaryHandler(services, WeChatPayClient.CertificateHttpClientName));
    }
}
