using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Orleans.Networking.Shared;
using Orleans.Runtime.Messaging;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>
/// The one place that says which failures of a grain call mean "part of the cluster is unavailable" (a silo died or
/// froze, no gateway is connected, the call timed out), so that callers hear 503 <c>unavailable</c> with
/// <c>Retry-After</c> rather than a bare 500 (docs/availability.md). Such a call changed nothing the caller can rely on:
/// asking again is safe (reads; pays return the same attempt; notifies are retried by WeChat).
/// </summary>
public static class ClusterAvailability
{
    public const string Code = "unavailable";

    /// <summary>Whether <paramref name="exception"/> (or what it wraps) says the cluster, or the part of it the call
    /// needed, is unavailable for now.</summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        // A silo declared dead or gone while the call was in flight; the message was rejected (no silo for it, a
        // gateway overloaded or shutting down); a response timeout; the client has no live connection.
        SiloUnavailableException or OrleansMessageRejectionException or GatewayTooBusyException or TimeoutException
            or ConnectionFailedException or SocketConnectionException or SocketException
            or ClusterDeadlineExceededException => true,
        // "The client is not connected" / "no gateways available" before the client's first or after its last gateway.
        OrleansException when exception.InnerException is null && IsNotConnected(exception.Message) => true,
        InvalidOperationException when IsNotConnected(exception.Message) => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsUnavailable),
        _ => exception.InnerException is { } inner && IsUnavailable(inner),
    };

    private static bool IsNotConnected(string message) =>
        message.Contains("not connected", StringComparison.OrdinalIgnoreCase)
        || message.Contains("no gateway", StringComparison.OrdinalIgnoreCase)
        || message.Contains("gateways available", StringComparison.OrdinalIgnoreCase);

    /// <summary>Writes 503 <c>unavailable</c> with <c>Retry-After</c>.</summary>
    public static Task WriteAsync(HttpContext context, IProblemDetailsService problems)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<GatewayClusterOptions>>().Value;
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = RetryAfterSeconds(options).ToString(CultureInfo.InvariantCulture);
        return problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = Problems.Details(StatusCodes.Status503ServiceUnavailable, Code,
                "Part of the service is unavailable for a moment; nothing was changed that you cannot ask for again. Try again shortly."),
        }).AsTask();
    }

    internal static int RetryAfterSeconds(GatewayClusterOptions options) => Math.Max(1, (int)Math.Ceiling(options.RetryAfter.TotalSeconds));
}

/// <summary>An H5 read did not get its grains' answer within <see cref="GatewayClusterOptions.ReadTimeout"/>.</summary>
public sealed class ClusterDeadlineExceededException(TimeSpan deadline)
    : TimeoutException($"The cluster did not answer within {deadline}.");
