using System.Globalization;
using System.Net;
using GroupPay.Testing;

namespace GroupPay.Gateway.Tests;

/// <summary>The Prometheus scrape endpoint (ServiceDefaults, <c>OTEL_METRICS_EXPORTER=prometheus</c>): on the metrics port
/// only, whatever Host header a client sends to the public one.</summary>
[Collection(GatewayCollection.Name)]
public sealed class MetricsEndpointTests(GatewayFixture fixture)
{
    [Fact]
    public async Task TheScrapeEndpointAnswersOnTheMetricsPortOnly()
    {
        var (publicPort, metricsPort) = (FreePort.Get(), FreePort.Get());
        await fixture.StartGatewayAsync(new Dictionary<string, string?>
        {
            ["urls"] = $"http://127.0.0.1:{publicPort};http://127.0.0.1:{metricsPort}",
            ["OTEL_METRICS_EXPORTER"] = "prometheus",
            ["Gateway:MetricsPort"] = metricsPort.ToString(CultureInfo.InvariantCulture),
        });
        using var http = new HttpClient();
        (await http.GetAsync(new Uri($"http://127.0.0.1:{publicPort}/api/campaigns"))).EnsureSuccessStatusCode();

        using var scraped = await http.GetAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics"));
        var text = await scraped.Content.ReadAsStringAsync();
        using var forged = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{publicPort}/metrics"));
        forged.Headers.Host = $"127.0.0.1:{metricsPort}";
        using var fromOutside = await http.SendAsync(forged);

        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Contains("http_server_request_duration", text, StringComparison.Ordinal);
        Assert.NotEqual(HttpStatusCode.OK, fromOutside.StatusCode);
        Assert.DoesNotContain("http_server_request_duration", await fromOutside.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
