using GroupPay.Client;
using GroupPay.Gateway.Admin;
using GroupPay.Gateway.Api;
using GroupPay.Gateway.Auth;
using GroupPay.Gateway.Infrastructure;
using GroupPay.Gateway.Notifications;
using GroupPay.ServiceDefaults;
using GroupPay.WeChatPay;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace GroupPay.Gateway;

/// <summary>
/// The gateway: stateless, an Orleans client only (never hosts grains), so any number of instances can stand
/// behind one address. Builds the app the entry point and the tests run.
/// </summary>
public static class GatewayHost
{
    /// <summary>The OpenTelemetry <c>service.name</c> of the gateway's traces and metrics, unless <c>OTEL_SERVICE_NAME</c> names another.</summary>
    public const string ServiceName = "grouppay-gateway";

    /// <summary>The session cookie (docs/api.md §3.3).</summary>
    public const string SessionCookieName = "grouppay.session";

    /// <summary>Runs the gateway until it stops; an invalid setting is one line naming its key and exit code 1.</summary>
    public static Task<int> RunAsync(string[] args) => ServiceDefaultsExtensions.RunOrRefuseAsync("gateway", () => Create(args));

    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        AddServices(builder);
        var app = builder.Build();
        Map(app);
        return app;
    }

    private static void AddServices(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.AddOptions<ClusterConnectionOptions>()
            .Configure<IConfiguration>((o, configuration) =>
            {
                o.Redis = configuration.GetConnectionString("Redis") ?? o.Redis;
                o.ClusterId = configuration["Orleans:ClusterId"] ?? o.ClusterId;
                o.ServiceId = configuration["Orleans:ServiceId"] ?? o.ServiceId;
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<GatewayClusterOptions>().BindConfiguration(GatewayClusterOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddWeChatPay();
        services.AddSingleton<GatewayTelemetry>();
        services.AddSingleton<GroupFeeds>();
        services.AddProblemDetails();
        services.AddGroupPayOpenApi();
        services.AddExceptionHandler<GroupPayExceptionHandler>();
        // Malformed bodies and parameters throw, so the exception handler answers them as 400 problems.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddMutationRateLimiting();
        services.AddFrontDoor();
        // The H5 app's files only (docs/h5.md, Size): never JSON or the event stream, so no secret-bearing answer is
        // compressed (BREACH) and events are not held back in a compressor's buffer.
        services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;
            o.MimeTypes = ["text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml"];
        });
        // Optimal, not the default Fastest: the files are immutable by name and cached, so each is compressed for a
        // phone once, and Fastest's gzip made the first load 177 KB against the 150 KB budget (H5BrowserTests).
        services.Configure<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Optimal);
        services.Configure<Microsoft.AspNetCore.ResponseCompression.BrotliCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Optimal);
        AddSignIn(services);

        var cluster = GroupPayClientSettings.From(builder.Configuration);
        var redis = cluster.Redis;
        // The one way onto the cluster, as a shop's own services join it (GroupPay.Client, docs/clients.md).
        builder.AddGroupPayClient(client =>
        {
            client.UseConnectionRetryFilter(RetryConnectingAsync);
            // docs/availability.md: a call waits Gateway:Cluster:ResponseTimeout at most (Orleans' default is 30 s; ours is
            // above a pay's WeChat budget, the H5 reads have their own shorter deadline), and
            // the client learns of a dead or frozen silo's gateway within the refresh period (default a minute).
            client.Services.AddOptions<Orleans.Configuration.ClientMessagingOptions>().Configure<IOptions<GatewayClusterOptions>>((o, cluster) => o.ResponseTimeout = cluster.Value.ResponseTimeout);
            client.Services.AddOptions<Orleans.Configuration.GatewayOptions>().Configure<IOptions<GatewayClusterOptions>>((o, cluster) => o.GatewayListRefreshPeriod = cluster.Value.GatewayListRefreshPeriod);
            if (ServiceDefaultsExtensions.IsTelemetryExported(builder.Configuration))
            {
                // Grain calls carry the request's trace context to the silos (which propagate it on to WeChat Pay).
                client.AddActivityPropagation();
            }
        });
        // After the Orleans client, so it stops first and its last flush still reaches the cluster.
        // The link opens it sees, counted like the silos count theirs (GroupPay.Grains.Stats).
        services.AddGroupPayStats();
        services.AddOptions<StatsOptions>().Configure<IOptions<GatewayOptions>>((stats, gateway) => stats.FlushInterval = gateway.Value.StatsFlushInterval);
        // Session cookies must open on every gateway instance: the key ring lives in the same Redis, under the
        // service's own prefix (as Orleans keys its data), so two services sharing a Redis keep separate rings.
        var keyStore = new Lazy<IConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(redis));
        var serviceId = cluster.ServiceId;
        services.AddDataProtection()
            .SetApplicationName("GroupPay.Gateway")
            .PersistKeysToStackExchangeRedis(() => keyStore.Value.GetDatabase(), $"{serviceId}/gateway/dataprotection-keys")
            .ProtectKeysAtRest(builder.Configuration);

        // Telemetry (OTLP, Prometheus), the liveness check and the refusal line: ServiceDefaults; readiness is the cluster's.
        builder.AddServiceDefaults(ServiceName);
        services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster", tags: [ServiceDefaultsExtensions.ReadyTag]);
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation());
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddAspNetCoreInstrumentation());
    }

    /// <summary>WeChat OAuth sign-in and the gateway's own session cookie; the admin key scheme.</summary>
    private static void AddSignIn(IServiceCollection services)
    {
        services.AddOptions<WeChatOAuthOptions>().BindConfiguration(WeChatOAuthOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<WeChatOAuthOptions>, WeChatOAuthOptionsValidator>();
        // The exchange's URL carries the app secret: no request logging on this client.
        services.AddHttpClient<WeChatOAuthClient>(WeChatOAuthClient.HttpClientName).RemoveAllLoggers();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<OAuthCorrelation>();

        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.Cookie.Name = SessionCookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                // Secure outside Development (Gateway:SecureCookies): configured below, where the environment is known.
                o.Cookie.IsEssential = true;
                o.ExpireTimeSpan = TimeSpan.FromDays(7);
                o.SlidingExpiration = true;
                // An API: no redirect to a login page, a 401 problem the H5 app answers with /auth/login.
                o.Events.OnRedirectToLogin = context =>
                    Problems.WriteAsync(context.HttpContext, StatusCodes.Status401Unauthorized, "unauthenticated", "Sign in first (/auth/login).");
                o.Events.OnRedirectToAccessDenied = context =>
                    Problems.WriteAsync(context.HttpContext, StatusCodes.Status403Forbidden, "forbidden", "Not allowed.");
            })
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(AdminKeyAuthenticationHandler.SchemeName, null);
        services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .Configure<IOptions<GatewayOptions>, IHostEnvironment>((o, gateway, environment) =>
                o.Cookie.SecurePolicy = gateway.Value.CookiesAreSecure(environment) ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest);
        AdminKeyAuthenticationHandler.AddPolicy(services.AddAuthorizationBuilder());
    }

    private static void Map(WebApplication app)
    {
        app.UseExceptionHandler();
        if (ServiceDefaultsExtensions.IsPrometheusEnabled(app.Configuration) && app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.MetricsPort is { } metricsPort)
        {
            // Only for connections to the metrics port (listed in ASPNETCORE_URLS beside the public one).
            app.UsePrometheusMetrics(metricsPort);
        }
        app.UseSecurityHeaders();
        app.UseStatusCodePages();
        app.UseResponseCompression();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseBodyLimit();
        app.UseCrossSiteCheck();
        app.UseRouting();
        app.UseAdminRateLimit(); // before authentication: a wrong admin key costs a request too
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseReadDeadlines();

        app.MapGroupPayOpenApi();
        app.MapHealthEndpoints();
        app.MapWeChatPayNotifies();
        app.MapAuth();
        app.MapCampaigns();
        app.MapGroups();
        app.MapMe();
        app.MapWeChat();
        app.MapAdmin();
        app.MapOperator();
        app.MapReconciliation();
        app.MapH5();
    }

    /// <summary>Keeps trying to reach the cluster for a minute at start (silos may still be starting).</summary>
    private static async Task<bool> RetryConnectingAsync(Exception exception, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        return true;
    }

}
