using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;
using GroupPay.Gateway.Infrastructure;
using GroupPay.Grains;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Messaging;

namespace GroupPay.Gateway.Tests;

/// <summary>The exceptions Orleans throws while part of the cluster is unavailable become 503 <c>unavailable</c> with
/// <c>Retry-After</c> in the gateway's one exception handler; the grains' refusals and unknown errors keep theirs.</summary>
public sealed class UnavailableProblemTests
{
    public static TheoryData<string> UnavailableKinds => [.. Unavailable.Keys];

    private static readonly Dictionary<string, Func<Exception>> Unavailable = new()
    {
        ["silo-unavailable"] = () => new SiloUnavailableException("The target silo became unavailable for message"),
        ["response-timeout"] = () => new TimeoutException("Response did not arrive on time in 00:00:04 for message"),
        // Its constructors are internal: Orleans alone raises it.
        ["message-rejected"] = () => (Exception)Activator.CreateInstance(typeof(OrleansMessageRejectionException),
            BindingFlags.NonPublic | BindingFlags.Instance, null, ["Forwarding failed: tried to forward message"], null)!,
        ["gateway-too-busy"] = () => new GatewayTooBusyException("Shedding load"),
        ["connection-failed"] = () => new ConnectionFailedException("Unable to connect to endpoint S127.0.0.1:11111:0"),
        ["socket"] = () => new SocketException((int)SocketError.ConnectionRefused),
        ["not-connected"] = () => new InvalidOperationException("The client is not connected to the cluster."),
        ["read-deadline"] = () => new ClusterDeadlineExceededException(TimeSpan.FromSeconds(2)),
        ["wrapped"] = () => new AggregateException(new SiloUnavailableException()),
    };

    [Theory]
    [MemberData(nameof(UnavailableKinds))]
    public async Task AnswersUnavailableWithRetryAfterWhenTheClusterIsUnreachable(string kind)
    {
        var (handled, context) = await HandleAsync(Unavailable[kind]());

        Assert.True(handled);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal("7", context.Response.Headers.RetryAfter.ToString());
        var problem = await ReadAsync(context);
        Assert.Equal(("unavailable", 503), (problem.GetProperty("code").GetString(), problem.GetProperty("status").GetInt32()));
    }

    [Fact]
    public async Task KeepsTheGrainsRefusalsAsTheyWere()
    {
        var (handled, context) = await HandleAsync(new GroupFullException());

        Assert.True(handled);
        Assert.Equal(StatusCodes.Status409Conflict, context.Response.StatusCode);
        Assert.False(context.Response.Headers.ContainsKey("Retry-After"));
    }

    [Fact]
    public async Task LeavesUnknownErrorsToTheDefaultHandler()
    {
        var (handled, _) = await HandleAsync(new InvalidOperationException("a bug"));

        Assert.False(handled);
    }

    private static async Task<(bool Handled, DefaultHttpContext Context)> HandleAsync(Exception exception)
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddProblemDetails()
            .Configure<GatewayClusterOptions>(o => o.RetryAfter = TimeSpan.FromSeconds(6.5))
            .BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Response.Body = new MemoryStream();
        var handler = new GroupPayExceptionHandler(services.GetRequiredService<IProblemDetailsService>());
        return (await handler.TryHandleAsync(context, exception, CancellationToken.None), context);
    }

    private static async Task<JsonElement> ReadAsync(HttpContext context)
    {
        context.Response.Body.Position = 0;
        return (await JsonDocument.ParseAsync(context.Response.Body)).RootElement;
    }
}
