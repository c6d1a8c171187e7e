-- wrk script: the classic UpdateItem (ADD #count :inc on id = "bench-ceiling") straight
-- to dynalite, which checks the shape of Authorization but never the signature.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.UpdateItem"
wrk.headers["X-Amz-Date"] = "20150830T123600Z"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00"
wrk.body = '{"TableName":"visitor-counter","Key":{"id":{"S":"bench-ceiling"}},' ..
  '"UpdateExpression":"ADD #count :inc","ExpressionAttributeNames":{"#count":"count"},' ..
  '"ExpressionAttributeValues":{":inc":{"N":"1"}},"ReturnValues":"UPDATED_NEW"}'
