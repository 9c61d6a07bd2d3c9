using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>
/// H5 reads wait at most <see cref="GatewayClusterOptions.ReadTimeout"/> for the cluster: endpoints marked with
/// <see cref="WithReadDeadline{TBuilder}"/> see a <c>RequestAborted</c> token that also fires at the deadline, and pass
/// it to their grain calls (Orleans cancels the call, here and at the silo). A call cancelled by the deadline, not by
/// the client, becomes a <see cref="ClusterDeadlineExceededException"/>, which the exception handler answers 503.
/// </summary>
public static class ReadDeadline
{
    public static TBuilder WithReadDeadline<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(Marker.Instance);

    /// <summary>After routing, before the endpoint runs (its parameters bind the token).</summary>
    public static IApplicationBuilder UseReadDeadlines(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<Marker>() is null)
        {
            await next(context);
            return;
        }
        var timeout = context.RequestServices.GetRequiredService<IOptions<GatewayClusterOptions>>().Value.ReadTimeout;
        var aborted = context.RequestAborted;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        deadline.CancelAfter(timeout);
        context.RequestAborted = deadline.Token;
        try
        {
            await next(context);
        }
        catch (OperationCanceledException ex) when (!aborted.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            throw new ClusterDeadlineExceededException(timeout) { Source = ex.Source };
        }
        finally
        {
            context.RequestAborted = aborted;
        }
    });

    private sealed class Marker
    {
        public static readonly Marker Instance = new();
    }
}
