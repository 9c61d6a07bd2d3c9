using Microsoft.AspNetCore.Http.HttpResults;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>The WeChat Pay v2 merchant API on WeChat's paths: XML in, XML out.</summary>
internal static class MerchantApiEndpoints
{
    public const string XmlContentType = "text/xml; charset=utf-8";

    private static readonly string[] NotPost = [HttpMethods.Get, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Patch];

    public static IEndpointRouteBuilder MapMerchantApi(this IEndpointRouteBuilder app)
    {
        Map(app, "/pay/unifiedorder", MerchantApi.UnifiedOrder);
        Map(app, "/pay/orderquery", MerchantApi.OrderQuery);
        Map(app, "/pay/closeorder", MerchantApi.CloseOrder);
        Map(app, "/secapi/pay/refund", MerchantApi.Refund);
        Map(app, "/pay/refundquery", MerchantApi.RefundQuery);
        Map(app, "/pay/downloadbill", MerchantApi.DownloadBill);
        return app;
    }

    private static void Map(IEndpointRouteBuilder app, string path, MerchantApi api)
    {
        app.MapPost(path, (HttpRequest request, MerchantApiProcessor processor, CancellationToken cancellationToken) =>
            HandleAsync(request, api, processor, cancellationToken));
        app.MapMethods(path, NotPost, RequirePost);
    }

    private static async Task<FileContentHttpResult> HandleAsync(
        HttpRequest request, MerchantApi api, MerchantApiProcessor processor, CancellationToken cancellationToken)
    {
        var answer = await processor.ProcessAsync(request.Body, api, request.Headers.TraceParent, cancellationToken).ConfigureAwait(false);
        return TypedResults.Bytes(answer.Body, answer.ContentType);
    }

    private static ContentHttpResult RequirePost() => TypedResults.Content(MerchantApiProcessor.RequirePost(), XmlContentType);
}
