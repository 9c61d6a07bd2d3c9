using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using GroupPay.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace GroupPay.Gateway.Tests;

/// <summary>The data-protection key ring in Redis, encrypted at rest with a configured certificate.</summary>
public sealed class KeyRingTests : IAsyncLifetime, IDisposable
{
    private const string Password = "key-ring-test";
    private readonly string _directory = Directory.CreateTempSubdirectory("grouppay-keyring-").FullName;
    private readonly string _serviceId = "keyring-" + Guid.NewGuid().ToString("N")[..8];
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.SharedAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task WithACertificateTheKeysInRedisAreEncryptedAndEveryInstanceHoldingItReadsThem()
    {
        var certificate = WriteCertificate("keyring.pfx", Password);
        await using var first = Gateway(Settings(certificate, Password));
        await using var second = Gateway(Settings(certificate, Password));
        await using var uncertified = Gateway(Settings(null, null));
        var protectedCookie = Protector(first).Protect("session of o-1");

        var stored = await KeyRingAsync();
        Assert.NotEmpty(stored);
        Assert.All(stored, key => Assert.Contains("<encryptedSecret", key, StringComparison.Ordinal));
        Assert.All(stored, key => Assert.DoesNotContain("<masterKey", key, StringComparison.Ordinal));
        // Another gateway instance with the same certificate opens it; one without cannot.
        Assert.Equal("session of o-1", Protector(second).Unprotect(protectedCookie));
        Assert.ThrowsAny<CryptographicException>(() => Protector(uncertified).Unprotect(protectedCookie));
    }

    [Fact]
    public async Task WithoutACertificateTheKeysAreStoredAsPlainXml()
    {
        await using var gateway = Gateway(Settings(null, null));
        Protector(gateway).Protect("session of o-2");

        Assert.All(await KeyRingAsync(), key => Assert.Contains("<masterKey", key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AWrongPasswordStopsTheGatewayNamingTheKey()
    {
        var certificate = WriteCertificate("wrong-password.pfx", Password);
        await using var gateway = Gateway(Settings(certificate, "not-the-password"));

        var refusal = await Assert.ThrowsAsync<OptionsValidationException>(() => gateway.StartAsync());

        Assert.Contains(refusal.Failures, f => f.StartsWith($"Gateway:DataProtection:CertificatePath '{certificate}' cannot be loaded", StringComparison.Ordinal));
    }

    private Dictionary<string, string?> Settings(string? certificatePath, string? password)
    {
        var settings = ConfigurationTests.Valid();
        settings["ConnectionStrings:Redis"] = _redis.ConnectionString;
        settings["Orleans:ServiceId"] = _serviceId;
        settings["Gateway:DataProtection:CertificatePath"] = certificatePath;
        settings["Gateway:DataProtection:CertificatePassword"] = password;
        return settings;
    }

    private static WebApplication Gateway(Dictionary<string, string?> settings) =>
        GatewayHost.Create(["--urls", "http://127.0.0.1:0", "--environment", "Production"], builder =>
            builder.Configuration.AddInMemoryCollection(settings));

    /// <summary>The data protection of a gateway instance (built, not started: its key ring needs Redis only, not the
    /// cluster).</summary>
    private static IDataProtector Protector(WebApplication gateway) =>
        gateway.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("KeyRingTests");

    private async Task<string[]> KeyRingAsync()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        var keys = await redis.GetDatabase().ListRangeAsync($"{_serviceId}/gateway/dataprotection-keys");
        return [.. keys.Select(k => k.ToString())];
    }

    private string WriteCertificate(string name, string password)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=GroupPay key ring (test)", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return path;
    }
}
