using System.Globalization;
using System.Threading.RateLimiting;
using GroupPay.WeChatPay;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>
/// What every request meets before its endpoint (docs/api.md §3.6): the security headers, the body limit of the JSON
/// endpoints, the cross-site check of cookie-authenticated writes, and the per-IP limit of <c>/admin</c>, which counts
/// before the admin key is checked.
/// </summary>
internal static class FrontDoor
{
    /// <summary>The largest body <c>/api</c>, <c>/auth</c> and <c>/admin</c> read (their JSON is a few hundred bytes;
    /// WeChat's notifies keep their own limit).</summary>
    public const int MaxBodyBytes = 16 * 1024;

    /// <summary>WeChat's JS-SDK script host (<see cref="Api.H5Endpoints.JsSdkScriptUrl"/>).</summary>
    public const string WeChatScriptOrigin = "https://res.wx.qq.com";

    private static readonly string[] LimitedBodyPrefixes = ["/api", "/auth", "/admin"];

    public static IServiceCollection AddFrontDoor(this IServiceCollection services)
    {
        services.AddSingleton<AdminRateLimiter>();
        services.AddSingleton<EventStreamCaps>();
        services.AddOptions<GatewayEventStreamOptions>().BindConfiguration(GatewayEventStreamOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }

    /// <summary>The page's policy: its own scripts plus the JS-SDK script's origin (WeChat's, or the sandbox's
    /// <c>wx</c> stand-in, which also calls the sandbox to check <c>wx.config</c>); product images from any https host;
    /// inline styles and its icon font as a data: URL (Vant's; its fallback on a CDN is never needed); never framed.</summary>
    public static string ContentSecurityPolicy(string weChatPayBaseUrl)
    {
        var sandbox = WeChatPayOptions.IsWeChatHost(weChatPayBaseUrl) || !Uri.TryCreate(weChatPayBaseUrl, UriKind.Absolute, out var uri)
            ? null
            : uri.GetLeftPart(UriPartial.Authority);
        var script = sandbox ?? WeChatScriptOrigin;
        var connect = sandbox is null ? "'self'" : "'self' " + sandbox;
        return $"default-src 'self'; script-src 'self' {script}; connect-src {connect}; img-src 'self' data: https:; font-src 'self' data:; "
            + "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
    }

    /// <summary><c>X-Content-Type-Options</c> and <c>Referrer-Policy</c> on every answer; the content security policy
    /// on HTML (the app's page, from the static files or <see cref="Api.H5Endpoints"/>).</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app)
    {
        // Read at the first request, not here: bad settings are reported by the start-up validation, by key.
        var policy = new Lazy<string>(() =>
            ContentSecurityPolicy(app.ApplicationServices.GetRequiredService<IOptions<WeChatPayOptions>>().Value.BaseUrl));
        return app.Use((context, next) =>
        {
            var response = context.Response;
            response.OnStarting(() =>
            {
                response.Headers.XContentTypeOptions = "nosniff";
                response.Headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                if (response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
                {
                    response.Headers.ContentSecurityPolicy = policy.Value;
                }
                return Task.CompletedTask;
            });
            return next(context);
        });
    }

    /// <summary>At most <see cref="MaxBodyBytes"/> under <c>/api</c>, <c>/auth</c> and <c>/admin</c>: a larger declared
    /// body is refused unread, a chunked one as soon as it passes the limit; 413 <c>payload-too-large</c>.</summary>
    public static IApplicationBuilder UseBodyLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (!LimitedBodyPrefixes.Any(prefix => request.Path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase)))
        {
            await next(context);
            return;
        }
        if (request.ContentLength > MaxBodyBytes)
        {
            await TooLargeAsync(context);
            return;
        }
        if (request.ContentLength is null && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            // Chunked: read it here, up to one byte past the limit, so the endpoint never sees a partial body.
            var buffer = new MemoryStream();
            var chunk = new byte[4096];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxBodyBytes)
                {
                    await TooLargeAsync(context);
                    return;
                }
            }
            buffer.Position = 0;
            request.Body = buffer;
            context.Response.RegisterForDispose(buffer);
        }
        await next(context);
    });

    private static Task TooLargeAsync(HttpContext context) =>
        Problems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "payload-too-large", $"The body exceeds {MaxBodyBytes} bytes.");

    /// <summary>
    /// A POST, PUT, PATCH or DELETE under <c>/api</c>, or <c>/auth/logout</c>, carrying the session cookie must come
    /// from the site itself: its <c>Origin</c> is the site's (<c>Gateway:PublicBaseUrl</c>, or the request's own
    /// scheme and host), or, without <c>Origin</c>, <c>Sec-Fetch-Site</c> is <c>same-origin</c> or <c>none</c>.
    /// Otherwise 403 <c>cross-site</c>. A request with neither header is not a browser's and passes; <c>/admin</c>
    /// (the admin key) and <c>/wechatpay</c> (signed notifies) carry no cookie authority and are never checked.
    /// </summary>
    public static IApplicationBuilder UseCrossSiteCheck(this IApplicationBuilder app)
    {
        var publicOrigin = new Lazy<string?>(() =>
            Uri.TryCreate(app.ApplicationServices.GetRequiredService<IOptions<GatewayOptions>>().Value.PublicBaseUrl, UriKind.Absolute, out var uri)
                ? uri.GetLeftPart(UriPartial.Authority)
                : null);
        return app.Use(async (context, next) =>
        {
            if (IsCookieWrite(context.Request) && !IsSameSite(context.Request, publicOrigin.Value))
            {
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "cross-site", "A signed-in change must come from this site's own pages.");
                return;
            }
            await next(context);
        });
    }

    private static bool IsCookieWrite(HttpRequest request) =>
        (HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method) || HttpMethods.IsDelete(request.Method))
        && (request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) || request.Path.Equals("/auth/logout", StringComparison.OrdinalIgnoreCase))
        && request.Cookies.ContainsKey(GatewayHost.SessionCookieName);

    private static bool IsSameSite(HttpRequest request, string? publicOrigin)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0)
        {
            return string.Equals(origin, publicOrigin, StringComparison.OrdinalIgnoreCase)
                || string.Equals(origin, request.Scheme + "://" + request.Host.Value, StringComparison.OrdinalIgnoreCase);
        }
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        return site.Length == 0 || site.Equals("same-origin", StringComparison.OrdinalIgnoreCase) || site.Equals("none", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><c>/admin</c>: a fixed window per client IP (<c>Gateway:RateLimit:AdminPerIp</c>), taken before
    /// authentication, so guessing the key costs as much as using it; 429 <c>rate-limited</c> with <c>Retry-After</c>.</summary>
    public static IApplicationBuilder UseAdminRateLimit(this IApplicationBuilder app)
    {
        var limiter = app.ApplicationServices.GetRequiredService<AdminRateLimiter>();
        return app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/admin", StringComparison.OrdinalIgnoreCase))
            {
                await next(context);
                return;
            }
            using var lease = limiter.Acquire(context);
            if (!lease.IsAcquired)
            {
                var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "rate-limited", "Too many admin requests; try again later.");
                return;
            }
            await next(context);
        });
    }

    internal static string ClientIp(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}

/// <summary>The per-IP window of <c>/admin</c> (<see cref="FrontDoor.UseAdminRateLimit"/>).</summary>
internal sealed class AdminRateLimiter(IOptions<GatewayRateLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<HttpContext> _limiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
        RateLimitPartition.GetFixedWindowLimiter(FrontDoor.ClientIp(context), _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.AdminPerIp,
            Window = options.Value.Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public RateLimitLease Acquire(HttpContext context) => _limiter.AttemptAcquire(context);

    public void Dispose() => _limiter.Dispose();
}

/// <summary>Open event streams per user and per client IP, capped by <c>Gateway:EventStreams:*</c>; a place is
/// taken for the life of the request.</summary>
internal sealed class EventStreamCaps(IOptions<GatewayEventStreamOptions> options)
{
    /// <summary>What a refused client is told to wait before it tries again (EventSource retries by itself).</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, int> _open = [];

    /// <summary>A place for one more stream of <paramref name="openid"/> from <paramref name="ip"/>, released on
    /// dispose; null when either is at its cap.</summary>
    public IDisposable? TryEnter(string openid, string ip)
    {
        var user = "user:" + openid;
        var address = "ip:" + ip;
        lock (_open)
        {
            if (_open.GetValueOrDefault(user) >= options.Value.PerUser || _open.GetValueOrDefault(address) >= options.Value.PerIp)
            {
                return null;
            }
            _open[user] = _open.GetValueOrDefault(user) + 1;
            _open[address] = _open.GetValueOrDefault(address) + 1;
        }
        return new Place(this, user, address);
    }

    /// <summary>How many streams <paramref name="key"/> (<c>user:…</c> or <c>ip:…</c>) has open.</summary>
    public int Count(string key)
    {
        lock (_open)
        {
            return _open.GetValueOrDefault(key);
        }
    }

    private void Leave(string user, string address)
    {
        lock (_open)
        {
            foreach (var key in (string[])[user, address])
            {
                if (_open.GetValueOrDefault(key) <= 1)
                {
                    _open.Remove(key);
                }
                else
                {
                    _open[key]--;
                }
            }
        }
    }

    private sealed class Place(EventStreamCaps caps, string user, string address) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                caps.Leave(user, address);
            }
        }
    }
}
