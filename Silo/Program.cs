using System.Text.RegularExpressions;
using GroupPay.Silo;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

try
{
    using var host = SiloHost.Create(args);
    await host.RunAsync();
    return 0;
}
catch (Exception ex) when (ConfigurationFailures(ex) is { Count: > 0 } failures)
{
    // Invalid configuration: one clear line per bad key.
    foreach (var failure in failures)
    {
        await Console.Error.WriteLineAsync("GroupPay silo refuses to start: " + failure);
    }
    return 1;
}

static List<string> ConfigurationFailures(Exception ex) => ex switch
{
    OptionsValidationException validation => [.. validation.Failures.Select(Unwrap)],
    AggregateException aggregate => [.. aggregate.InnerExceptions.SelectMany(ConfigurationFailures)],
    _ => [],
};

// DataAnnotations wraps the message that names the key: "… members: 'ApiKey' with the error: '<message>'."
static string Unwrap(string failure) =>
    Regex.Match(failure, "with the error: '(?<message>.*)'\\.$") is { Success: true } match ? match.Groups["message"].Value : failure;
