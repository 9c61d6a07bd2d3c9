using System.Collections.Concurrent;
using GroupPay.WeChatPay.Protocol;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace GroupPay.WeChatPay.Tests;

/// <summary>A loopback HTTP server whose answers each test scripts, for the client's error paths that the
/// sandbox (an honest WeChat) never produces: forged signatures, timeouts, HTTP errors.</summary>
internal sealed class StubWeChatServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StubWeChatServer(WebApplication app) => _app = app;

    public ConcurrentQueue<(string Path, byte[] Body)> Requests { get; } = new();

    /// <summary>Answers a request; the argument is the parsed request.</summary>
    public Func<WeChatPayMessage, int, Task<IResult>> Respond { get; set; } = (_, _) => Task.FromResult(Results.Ok());

    /// <summary>Cancelled when the server stops, so slow answers end with it.</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    public string BaseUrl { get; private set; } = "";

    public static async Task<StubWeChatServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new StubWeChatServer(app);
        app.MapPost("/{**path}", async (HttpContext context, string path) =>
        {
            var body = await WeChatPayXml.ReadBodyAsync(context.Request.Body);
            server.Requests.Enqueue((path, body));
            return await server.Respond(WeChatPayXml.Parse(body), server.Requests.Count);
        });
        await app.StartAsync();
        server.BaseUrl = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    public static IResult Xml(WeChatPayMessage message) =>
        Results.Text(WeChatPayXml.Serialize(message), "text/xml; charset=utf-8");

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
