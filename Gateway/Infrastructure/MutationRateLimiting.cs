using System.Globalization;
using System.Threading.RateLimiting;
using GroupPay.Gateway.Auth;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>
/// Rate limits for the endpoints that change something or call WeChat (create, pay, sign-in, admin writes): a fixed
/// window per signed-in user and one per client IP, chained, so a request needs a permit from both. Endpoints opt in
/// with <see cref="RateLimitMutations{TBuilder}"/>; everything else (reads, health, WeChat's notifies) is unlimited.
/// Refusals are 429 problems with <c>code</c> <c>rate-limited</c> and <c>Retry-After</c>.
/// </summary>
internal static class MutationRateLimiting
{
    public static IServiceCollection AddMutationRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<GatewayRateLimitOptions>().BindConfiguration(GatewayRateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    IsLimited(context) && context.User.FindOpenid() is { } openid
                        ? Window("user:" + openid, context, o => o.PerUser)
                        : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    IsLimited(context)
                        ? Window("ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"), context, o => o.PerIp)
                        : RateLimitPartition.GetNoLimiter("")));
            limiter.OnRejected = async (rejected, _) =>
            {
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    rejected.HttpContext.Response.Headers.RetryAfter =
                        Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                }
                await Problems.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests, "rate-limited", "Too many requests; try again later.");
            };
        });
        return services;
    }

    /// <summary>Marks endpoints as limited per user and per IP.</summary>
    public static TBuilder RateLimitMutations<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(Limited.Instance);

    private static bool IsLimited(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<Limited>() is not null;

    private static RateLimitPartition<string> Window(string key, HttpContext context, Func<GatewayRateLimitOptions, int> permits)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<GatewayRateLimitOptions>>().Value;
        return RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits(options),
            Window = options.Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    private sealed class Limited
    {
        public static readonly Limited Instance = new();
    }
}
