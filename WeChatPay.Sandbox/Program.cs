using GroupPay.WeChatPay.Sandbox;
using Microsoft.Extensions.Options;

try
{
    SandboxApp.Create(args).Run();
    return 0;
}
catch (Exception ex) when (ConfigurationFailures(ex) is { Count: > 0 } failures)
{
    // Invalid configuration: one clear line per bad key.
    foreach (var failure in failures)
    {
        await Console.Error.WriteLineAsync("WeChat Pay sandbox refuses to start: " + failure);
    }
    return 1;
}

static List<string> ConfigurationFailures(Exception ex) => ex switch
{
    OptionsValidationException validation => [.. validation.Failures],
    AggregateException aggregate => [.. aggregate.InnerExceptions.SelectMany(ConfigurationFailures)],
    _ => [],
};

/// <summary>The sandbox's entry point; public so tests can name the assembly through it.</summary>
public partial class Program;
