using System.Runtime.CompilerServices;
using System.Security.Claims;
using GroupPay.Gateway.Auth;
using GroupPay.Gateway.Infrastructure;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Referrals;
using GroupPay.Grains.Stats;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Api;

/// <summary>
/// <c>/api/groups</c>: start a group, look at one, pay (own slot, joining if needed, or on behalf of a member), and
/// follow one as server-sent events. Every call goes to the group's OrderGrain; the grain's refusals become problem
/// details through <see cref="GroupPayExceptionHandler"/>.
/// </summary>
public static partial class GroupEndpoints
{
    /// <summary>How long an event stream waits after a failed read before it reads again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>A stream ends after this; EventSource reconnects by itself.</summary>
    public static readonly TimeSpan MaxStreamDuration = TimeSpan.FromMinutes(10);

    /// <summary>The client's request id: a create retried under the same one returns the same group.</summary>
    public const string RequestIdHeader = "x-requestid";

    public static RouteGroupBuilder MapGroups(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/groups").WithTags("Groups").RequireAuthorization()
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict,
                StatusCodes.Status429TooManyRequests, StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable);
        group.MapPost("", CreateAsync).RateLimitMutations().WithName("CreateGroup").WithSummary("Starts a group of a campaign with the caller as leader (idempotent under x-requestid).");
        group.MapGet("/{groupId}", GetAsync).AllowAnonymous().WithReadDeadline().WithName("GetGroup").WithSummary("The group as the caller (or an anonymous viewer) sees it.");
        group.MapPost("/{groupId}/pay", PayAsync).RateLimitMutations().WithName("PayForSlot").WithSummary("Starts (or resumes) a payment for the caller's slot or a member's: the JSAPI parameters.");
        group.MapGet("/{groupId}/events", EventsAsync).WithName("FollowGroup").WithSummary("The group as server-sent events, one per stored change.");
        return group;
    }

    internal static async Task<Results<Created<GroupJson>, ProblemHttpResult>> CreateAsync(
        CreateGroupRequest? body, [FromHeader(Name = RequestIdHeader)] string? requestId, ClaimsPrincipal user, HttpRequest request,
        IGrainFactory grains, IOptions<GatewayOptions> options, ILoggerFactory loggers)
    {
        if (body is null || !EdgeRules.IsCampaignId(body.CampaignId))
        {
            return Problems.Invalid("campaignId is required: 1..64 of [0-9A-Za-z_-].");
        }
        if (body.Ref is not null && !EdgeRules.IsReferralCode(body.Ref))
        {
            return Problems.Invalid("ref is not a referral code.");
        }
        if (requestId is not null && !EdgeRules.IsRequestId(requestId))
        {
            return Problems.Invalid($"{RequestIdHeader} must be 8..64 of [0-9A-Za-z_-] (a GUID fits).");
        }
        var openid = user.GetOpenid();
        var groupId = requestId is null ? EdgeRules.NewGroupId() : EdgeRules.GroupIdFor(openid, requestId);
        var view = await grains.GetGrain<IOrderGrain>(groupId).CreateAsync(new CreateGroup(body.CampaignId!, openid, body.Ref));
        if (view.CampaignId != body.CampaignId)
        {
            // The grain answers a repeated create with the group it made; a request id is one intent, not a new one.
            return Problems.Create(StatusCodes.Status409Conflict, "request-id-reused",
                $"That {RequestIdHeader} already started a group of another campaign; send a new one for a new group.");
        }
        await RememberGroupAsync(grains, openid, groupId, loggers);
        await ListGroupAsync(grains, body.CampaignId!, groupId, loggers);
        var code = (await grains.GetGrain<IReferralGrain>(openid).GetProfileAsync()).ReferralCode;
        return TypedResults.Created($"/api/groups/{groupId}", GroupJson.From(view, PublicLinks.ShareUrl(request, options.Value, groupId, code)));
    }

    internal static async Task<Results<Ok<GroupJson>, ProblemHttpResult>> GetAsync(
        string groupId, [FromQuery(Name = "ref")] string? referralCode, ClaimsPrincipal user, HttpRequest request, IGrainFactory grains,
        StatsBuffer stats, IOptions<GatewayOptions> options, CancellationToken cancellationToken)
    {
        if (!EdgeRules.IsGroupId(groupId))
        {
            return Problems.Invalid("A group id is 6..24 of [0-9a-z].");
        }
        // A malformed ref on a shared link still shows the group; it is just not counted or passed on.
        var sharedBy = EdgeRules.IsReferralCode(referralCode) ? referralCode : null;
        var viewer = user.FindOpenid();
        var shareCode = viewer is null ? Task.FromResult(sharedBy) : ReferralCodeAsync(grains, viewer, cancellationToken);
        var view = await grains.GetGrain<IOrderGrain>(groupId).GetAsync(viewer, cancellationToken);
        if (sharedBy is not null)
        {
            stats.Add(view.CampaignId, Counter.LinkOpened);
        }
        return TypedResults.Ok(GroupJson.From(view, PublicLinks.ShareUrl(request, options.Value, groupId, await shareCode)));
    }

    internal static async Task<Results<Ok<PaymentJson>, ProblemHttpResult>> PayAsync(
        string groupId, PayRequest? body, ClaimsPrincipal user, HttpContext context, IGrainFactory grains, ILoggerFactory loggers)
    {
        if (!EdgeRules.IsGroupId(groupId))
        {
            return Problems.Invalid("A group id is 6..24 of [0-9a-z].");
        }
        if (body?.Slot is { } slot && !EdgeRules.IsSlot(slot))
        {
            return Problems.Invalid($"slot must be between 0 and {EdgeRules.MaxGroupSize - 1}.");
        }
        if (body?.Ref is { } referral && !EdgeRules.IsReferralCode(referral))
        {
            return Problems.Invalid("ref is not a referral code.");
        }
        var openid = user.GetOpenid();
        var started = await grains.GetGrain<IOrderGrain>(groupId).PayAsync(new StartPayment(openid, body?.Slot, EdgeRules.ClientIp(context), body?.Ref));
        await RememberGroupAsync(grains, openid, groupId, loggers);
        return TypedResults.Ok(PaymentJson.From(started));
    }

    internal static async Task<Results<ServerSentEventsResult<GroupJson>, ProblemHttpResult>> EventsAsync(
        string groupId, ClaimsPrincipal user, HttpRequest request, IGrainFactory grains, GroupFeeds feeds, GatewayTelemetry telemetry,
        IOptions<GatewayOptions> options, TimeProvider time, ILoggerFactory loggers, EventStreamCaps caps)
    {
        if (!EdgeRules.IsGroupId(groupId))
        {
            return Problems.Invalid("A group id is 6..24 of [0-9a-z].");
        }
        var viewer = user.GetOpenid();
        // Gateway:EventStreams:PerUser and :PerIp open at once; the place is left when the request ends, however.
        if (caps.TryEnter(viewer, FrontDoor.ClientIp(request.HttpContext)) is not { } place)
        {
            request.HttpContext.Response.Headers.RetryAfter = ((int)EventStreamCaps.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.Create(StatusCodes.Status429TooManyRequests, "rate-limited", "Too many event streams open; close one or try again later.");
        }
        request.HttpContext.Response.RegisterForDispose(place);
        var shareUrl = PublicLinks.ShareUrl(request, options.Value, groupId, await ReferralCodeAsync(grains, viewer));
        var grain = grains.GetGrain<IOrderGrain>(groupId);
        // Following the group before the first read: no change between the two goes unheard. The first read happens
        // here, so an unknown group is a 404 rather than an empty stream.
        var subscription = feeds.Subscribe(groupId);
        request.HttpContext.Response.RegisterForDispose(subscription); // left however the request ends
        GroupJson first;
        try
        {
            telemetry.EventStreamCalled("read");
            first = GroupJson.From(await grain.GetAsync(viewer), shareUrl);
        }
        catch
        {
            subscription.Dispose();
            throw;
        }
        var logger = loggers.CreateLogger(typeof(GroupEndpoints));
        async Task<GroupJson> ReadAsync()
        {
            telemetry.EventStreamCalled("read");
            return GroupJson.From(await grain.GetAsync(viewer), shareUrl);
        }
        return TypedResults.ServerSentEvents(
            ChangesAsync(first, ReadAsync, subscription, time, logger, groupId, request.HttpContext.RequestAborted),
            eventType: "group");
    }

    /// <summary>The first snapshot, then the viewer's snapshot after each change the gateway's watch of the group hears
    /// of (<see cref="GroupFeeds"/>), when it differs from the last one sent, until the client goes away or
    /// <see cref="MaxStreamDuration"/> passes.</summary>
    private static async IAsyncEnumerable<GroupJson> ChangesAsync(
        GroupJson first, Func<Task<GroupJson>> read, GroupFeeds.FeedSubscription subscription, TimeProvider time, ILogger logger,
        string groupId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return first;
        var last = first;
        using var ends = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ends.CancelAfter(MaxStreamDuration);
        var changed = false;
        while (changed || await subscription.ChangedAsync(ends.Token))
        {
            changed = false;
            GroupJson next;
            try
            {
                next = await read();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPollFailed(logger, ex, groupId);
                await Task.Delay(RetryDelay, time, CancellationToken.None);
                changed = !ends.IsCancellationRequested; // try again
                continue;
            }
            if (!next.SameAs(last))
            {
                last = next;
                yield return next;
            }
        }
    }

    private static async Task<string?> ReferralCodeAsync(IGrainFactory grains, string openid, CancellationToken cancellationToken = default) =>
        (await grains.GetGrain<IReferralGrain>(openid).GetProfileAsync(cancellationToken)).ReferralCode;

    /// <summary>Adds the group to the user's list (<c>/api/me/groups</c>). The group call already succeeded, so a
    /// failure here is logged, not returned: the list is an index, and the next create or pay records it again.</summary>
    private static async Task RememberGroupAsync(IGrainFactory grains, string openid, string groupId, ILoggerFactory loggers)
    {
        try
        {
            await grains.GetGrain<IReferralGrain>(openid).RecordGroupAsync(groupId);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRememberFailed(loggers.CreateLogger(typeof(GroupEndpoints)), ex, groupId, new RedactedOpenid(openid));
        }
    }

    /// <summary>Puts a new group on its campaign's 凑团 list (<see cref="IOpenGroupsGrain"/>); the group stands without it.</summary>
    private static async Task ListGroupAsync(IGrainFactory grains, string campaignId, string groupId, ILoggerFactory loggers)
    {
        try
        {
            await grains.GetGrain<IOpenGroupsGrain>(campaignId).AddAsync(groupId);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogListFailed(loggers.CreateLogger(typeof(GroupEndpoints)), ex, groupId, campaignId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not add group {GroupId} to the open groups of campaign {CampaignId}")]
    private static partial void LogListFailed(ILogger logger, Exception exception, string groupId, string campaignId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event stream of group {GroupId}: a read failed; trying again at the next tick")]
    private static partial void LogPollFailed(ILogger logger, Exception exception, string groupId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not add group {GroupId} to the group list of {Openid}")]
    private static partial void LogRememberFailed(ILogger logger, Exception exception, string groupId, RedactedOpenid openid);
}
