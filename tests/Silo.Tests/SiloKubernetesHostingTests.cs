using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting.Kubernetes;

namespace GroupPay.Silo.Tests;

/// <summary>
/// <c>UseKubernetesHosting()</c> is wired only when <c>Orleans:KubernetesHosting=true</c>, and that is refused outside a
/// pod. The host is built, never started: the package's services are only looked up, not run.
/// </summary>
public sealed class SiloKubernetesHostingTests
{
    private const string InPod = "--KUBERNETES_SERVICE_HOST=10.96.0.1";

    [Theory]
    [InlineData(null, false)]
    [InlineData(InPod, false)]
    [InlineData("--Orleans:KubernetesHosting=false", false)]
    [InlineData("--Orleans:KubernetesHosting=false " + InPod, false)]
    [InlineData("--Orleans:KubernetesHosting=true " + InPod, true)]
    public void RegistersKubernetesHostingOnlyWhenSwitchedOnInAPod(string? args, bool registered)
    {
        using var host = SiloHost.Create(Args(args));

        // The package's own validator of KubernetesHostingOptions comes with UseKubernetesHosting() and nothing else.
        var validators = host.Services.GetServices<IValidateOptions<KubernetesHostingOptions>>();

        Assert.Equal(registered, validators.Any());
    }

    [Theory]
    [InlineData("--Orleans:KubernetesHosting=true --KUBERNETES_SERVICE_HOST=", "KUBERNETES_SERVICE_HOST")]
    [InlineData("--Orleans:KubernetesHosting=yes " + InPod, "Orleans:KubernetesHosting must be true or false")]
    [InlineData("--Orleans:KubernetesHosting=true --Orleans:ClusterId=grouppay/prod " + InPod, "Orleans:ClusterId must be a Kubernetes label value")]
    [InlineData("--Orleans:KubernetesHosting=true --ORLEANS_SERVICE_ID=other " + InPod, "ORLEANS_SERVICE_ID ('other') differs from Orleans:ServiceId")]
    public void RefusesKubernetesHostingThatCannotWork(string args, string failure)
    {
        var refused = Assert.Throws<OptionsValidationException>(() => SiloHost.Create(Args(args)));

        var message = Assert.Single(refused.Failures);
        Assert.Contains(failure, message, StringComparison.Ordinal);
    }

    // Nothing connects while the host is only built; a Redis is named so that no embedded store is chosen.
    private static string[] Args(string? args) =>
        ["--environment=Production", "--ConnectionStrings:Redis=127.0.0.1:1", .. (args ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)];
}
