using System.Collections.Concurrent;
using GroupPay.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GroupPay.Gateway.Tests;

/// <summary>
/// A stand-in OpenTelemetry collector on a loopback port: accepts OTLP/HTTP exports (<c>/v1/traces</c>,
/// <c>/v1/metrics</c>, protobuf) with an empty success answer and keeps every trace export's body.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<byte[]> _traceExports = new();

    private OtlpCollector(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>What an exporting process needs: this collector's endpoint over OTLP/HTTP, spans sent within 100 ms.</summary>
    public IReadOnlyDictionary<string, string?> ExporterSettings => new Dictionary<string, string?>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Url.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
    };

    public static async Task<OtlpCollector> StartAsync()
    {
        var url = new Uri($"http://127.0.0.1:{FreePort.Get()}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url.ToString());
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var collector = new OtlpCollector(app, url);
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            if (signal == "traces")
            {
                collector._traceExports.Enqueue(body.ToArray());
            }
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        return collector;
    }

    /// <summary>Whether a trace export from <paramref name="serviceName"/> (its resource's <c>service.name</c>) held a
    /// span of <paramref name="traceId"/> (32 hex digits). OTLP's protobuf carries both as raw bytes in one export.</summary>
    public bool HasSpan(string serviceName, string traceId)
    {
        var id = Convert.FromHexString(traceId);
        var service = System.Text.Encoding.UTF8.GetBytes(serviceName);
        return _traceExports.Any(export => export.AsSpan().IndexOf(id) >= 0 && export.AsSpan().IndexOf(service) >= 0);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
