using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>
/// Encryption at rest of the data-protection key ring (section <c>Gateway:DataProtection</c>): with a PKCS#12
/// certificate configured, every new key is written to Redis encrypted to it, and keys encrypted to it are read back;
/// every gateway instance mounts the same certificate. Without one the keys are stored as plain XML, readable by anyone
/// who can read that Redis key.
/// </summary>
public sealed class KeyRingProtectionOptions
{
    public const string SectionName = "Gateway:DataProtection";

    /// <summary>A PKCS#12 file with the certificate and its private key.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>Loads the certificate; null when none is configured.</summary>
    /// <exception cref="CryptographicException">the file is not PKCS#12, or the password is wrong.</exception>
    public X509Certificate2? LoadCertificate() =>
        string.IsNullOrEmpty(CertificatePath) ? null : X509CertificateLoader.LoadPkcs12FromFile(CertificatePath, CertificatePassword);
}

internal sealed class KeyRingProtectionOptionsValidator : IValidateOptions<KeyRingProtectionOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyRingProtectionOptions options)
    {
        if (string.IsNullOrEmpty(options.CertificatePath))
        {
            return ValidateOptionsResult.Success;
        }
        const string Key = "Gateway:DataProtection:CertificatePath";
        const string Env = "(env Gateway__DataProtection__CertificatePath)";
        if (!File.Exists(options.CertificatePath))
        {
            return ValidateOptionsResult.Fail($"{Key} '{options.CertificatePath}' does not exist {Env}.");
        }
        try
        {
            using var certificate = options.LoadCertificate()!;
            return certificate.HasPrivateKey
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"{Key} '{options.CertificatePath}' has no private key: keys encrypted to it could not be read back {Env}.");
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            return ValidateOptionsResult.Fail($"{Key} '{options.CertificatePath}' cannot be loaded with Gateway:DataProtection:CertificatePassword: {ex.Message} {Env}.");
        }
    }
}

internal static class KeyRingProtection
{
    /// <summary>Validates <see cref="KeyRingProtectionOptions"/> at start (a bad setting stops the gateway naming its
    /// key) and, when its certificate loads, has new keys encrypted to it and keys decrypted with it.</summary>
    public static IDataProtectionBuilder ProtectKeysAtRest(this IDataProtectionBuilder dataProtection, IConfiguration configuration)
    {
        var services = dataProtection.Services;
        services.AddOptions<KeyRingProtectionOptions>().BindConfiguration(KeyRingProtectionOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KeyRingProtectionOptions>, KeyRingProtectionOptionsValidator>();
        var options = configuration.GetSection(KeyRingProtectionOptions.SectionName).Get<KeyRingProtectionOptions>();
        X509Certificate2? certificate;
        try
        {
            certificate = options?.LoadCertificate();
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            return dataProtection; // the validator names the problem when the gateway starts
        }
        return certificate is null ? dataProtection : dataProtection.ProtectKeysWithCertificate(certificate);
    }
}
