using GroupPay.Grains;
using Microsoft.AspNetCore.Diagnostics;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>
/// Maps the grains' refusals (<see cref="GroupPayException"/>, nothing changed) and malformed requests to problem
/// details with their stable <c>code</c>, and the cluster's unavailability (<see cref="ClusterAvailability"/>) to 503
/// <c>unavailable</c> with <c>Retry-After</c>. Anything else is left to the default handler: a bare 500, no details.
/// </summary>
internal sealed class GroupPayExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (ClusterAvailability.IsUnavailable(exception))
        {
            await ClusterAvailability.WriteAsync(httpContext, problems);
            return true;
        }
        var (status, code, detail) = exception switch
        {
            GroupPayException refusal => (StatusOf(refusal.Code), refusal.Code, refusal.Message),
            BadHttpRequestException bad => (bad.StatusCode, CodeOf(bad.StatusCode), "The request is malformed."),
            _ => (0, "", ""),
        };
        if (status == 0)
        {
            return false;
        }
        httpContext.Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = "30"; // the JS-SDK ticket's quiet period after a failed fetch
        }
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = Problems.Details(status, code, detail),
        });
    }

    /// <summary>docs/api.md §12: 404 for what does not exist, 409 for the group's conflicts, 400 for invalid input,
    /// 502 when WeChat Pay refused or failed, 503 when another WeChat API cannot answer now.</summary>
    internal static int StatusOf(string code) => code switch
    {
        "unknown-group" or "unknown-campaign" or "unknown-item" => StatusCodes.Status404NotFound,
        "group-full" or "too-many-attempts" or "group-closed" or "already-paid" or "own-slot-on-behalf" or "campaign-closed" or "bill-not-ready" => StatusCodes.Status409Conflict,
        "payment-provider" => StatusCodes.Status502BadGateway,
        "wechat-unavailable" => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status400BadRequest,
    };

    private static string CodeOf(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "invalid-request",
        StatusCodes.Status413PayloadTooLarge => "payload-too-large",
        StatusCodes.Status415UnsupportedMediaType => "unsupported-media-type",
        _ => "bad-request",
    };
}
