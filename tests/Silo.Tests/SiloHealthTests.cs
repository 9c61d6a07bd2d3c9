using System.Net;
using GroupPay.Testing;

namespace GroupPay.Silo.Tests;

/// <summary>The silo's HTTP probes (<c>Orleans:HealthPort</c>), as an orchestrator calls them.</summary>
public sealed class SiloHealthTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task AnActiveSiloAnswersLiveAndReady()
    {
        var healthPort = FreePort.Get();
        await using var silo = await SiloProcess.StartAsync(new SiloProcessOptions
        {
            RedisConnectionString = redis.ConnectionString,
            Cluster = ClusterIdentity.Unique("health"),
            Environment = new Dictionary<string, string?> { ["Orleans__HealthPort"] = healthPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort}"), Timeout = TimeSpan.FromSeconds(5) };

        using var live = await http.GetAsync("/health/live");
        using var ready = await http.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal((HttpStatusCode.OK, "Healthy"), (ready.StatusCode, await ready.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task WithPrometheusOnTheHealthPortServesTheSilosMeters()
    {
        var healthPort = FreePort.Get();
        await using var silo = await SiloProcess.StartAsync(new SiloProcessOptions
        {
            RedisConnectionString = redis.ConnectionString,
            Cluster = ClusterIdentity.Unique("metrics"),
            Environment = new Dictionary<string, string?>
            {
                ["Orleans__HealthPort"] = healthPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["OTEL_METRICS_EXPORTER"] = "prometheus",
            },
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort}"), Timeout = TimeSpan.FromSeconds(5) };

        using var scraped = await http.GetAsync("/metrics");
        var text = await scraped.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.StartsWith("text/plain", scraped.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Contains("orleans_", text, StringComparison.Ordinal); // Orleans' own meter, collected in the silo
    }

    [Fact]
    public async Task WithoutPrometheusThereIsNoScrapeEndpoint()
    {
        var healthPort = FreePort.Get();
        await using var silo = await SiloProcess.StartAsync(new SiloProcessOptions
        {
            RedisConnectionString = redis.ConnectionString,
            Cluster = ClusterIdentity.Unique("nometrics"),
            Environment = new Dictionary<string, string?> { ["Orleans__HealthPort"] = healthPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort}"), Timeout = TimeSpan.FromSeconds(5) };

        using var scraped = await http.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, scraped.StatusCode);
    }

    [Fact]
    public async Task TheOrleansDashboardIsOnTheAdminPortWhenSwitchedOn()
    {
        var healthPort = FreePort.Get();
        await using var silo = await SiloProcess.StartAsync(new SiloProcessOptions
        {
            RedisConnectionString = redis.ConnectionString,
            Cluster = ClusterIdentity.Unique("dashboard"),
            Environment = new Dictionary<string, string?>
            {
                ["Orleans__HealthPort"] = healthPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Orleans__Dashboard"] = "true",
            },
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort}"), Timeout = TimeSpan.FromSeconds(15) };

        using var page = await http.GetAsync("/dashboard/");
        using var version = await http.GetAsync("/dashboard/version");
        using var silos = await http.GetAsync("/dashboard/DashboardCounters");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, version.StatusCode);
        Assert.Equal(HttpStatusCode.OK, silos.StatusCode);
        Assert.Contains("totalActiveHostCount", await silos.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task WithoutTheSwitchThereIsNoDashboard()
    {
        var healthPort = FreePort.Get();
        await using var silo = await SiloProcess.StartAsync(new SiloProcessOptions
        {
            RedisConnectionString = redis.ConnectionString,
            Cluster = ClusterIdentity.Unique("nodashboard"),
            Environment = new Dictionary<string, string?> { ["Orleans__HealthPort"] = healthPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort}"), Timeout = TimeSpan.FromSeconds(5) };

        using var page = await http.GetAsync("/dashboard/");

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
    }
}
